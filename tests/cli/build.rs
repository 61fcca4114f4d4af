//! `berth build`: a Dockerfile using every instruction, built from the fixture image; the
//! cache (all CACHED again, misses explained, `.dockerignore`, build args, cache mounts);
//! `--target`; bad Dockerfiles and failing steps leave nothing behind.

use std::path::Path;

use crate::common;

use common::{code, stderr, stdout, Berth, IMAGE};

/// A context directory with these files (parents made).
fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("berth-build-ctx-")
        .tempdir()
        .unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

/// A tar (for ADD to unpack) holding `inner/a.txt`.
fn write_tar(dir: &Path, name: &str) {
    let file = std::fs::File::create(dir.join(name)).unwrap();
    let mut tar = tar::Builder::new(file);
    let mut header = tar::Header::new_gnu();
    header.set_size(6);
    header.set_mode(0o600);
    header.set_uid(7);
    header.set_gid(8);
    header.set_cksum();
    tar.append_data(&mut header, "inner/a.txt", &b"in tar"[..])
        .unwrap();
    tar.finish().unwrap();
}

fn build(berth: &Berth, ctx: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["build", "--progress", "plain"];
    args.extend_from_slice(extra);
    let ctx = ctx.to_str().unwrap().to_owned();
    args.push(&ctx);
    berth.run(&args)
}

fn build_ok(berth: &Berth, ctx: &Path, extra: &[&str]) -> String {
    let out = build(berth, ctx, extra);
    assert_eq!(code(&out), 0, "build failed: {}", stderr(&out));
    stderr(&out)
}

/// The directories under `<root>/layers`.
fn layer_dirs(berth: &Berth) -> usize {
    std::fs::read_dir(berth.root().join("layers"))
        .unwrap()
        .count()
}

/// Every container record the engine has, hidden ones too.
fn container_dirs(berth: &Berth) -> usize {
    std::fs::read_dir(berth.root().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The progress lines of the step whose title ends with `title`: (its number, its lines).
fn step_lines(progress: &str, title: &str) -> Vec<String> {
    let header = progress
        .lines()
        .find(|l| l.starts_with('#') && l.ends_with(title))
        .unwrap_or_else(|| panic!("no step {title:?} in:\n{progress}"));
    let number = header.split_whitespace().next().unwrap().to_owned();
    progress
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(number.as_str()))
        .map(str::to_owned)
        .collect()
}

fn cached(progress: &str, title: &str) -> bool {
    step_lines(progress, title)
        .iter()
        .any(|l| l.ends_with(" CACHED"))
}

const EVERY_INSTRUCTION: &str = r#"ARG BASE=berth-test/busybox:latest
FROM $BASE AS build
ARG VERSION=1
ENV GREETING=hello
WORKDIR /src
COPY . /src/
RUN echo "$GREETING $VERSION" > /src/built.txt
RUN <<EOF
echo from a heredoc > /src/heredoc.txt
EOF
RUN <<EOF
#!/bin/sh
echo from a script > /src/script.txt
EOF

FROM ${BASE}
LABEL org.example.stage=final
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY --from=build /src/built.txt /src/heredoc.txt /src/script.txt ./
COPY --chown=1000:1000 --chmod=0640 app/config.txt /app/config.txt
COPY <<EOT /app/inline.txt
inline ${APP_HOME}
EOT
ADD archive.tar /app/unpacked/
RUN echo 'runner:x:1234:1234::/app:/bin/sh' >> /etc/passwd && chown runner /app
USER runner
RUN id -u > /app/whoami.txt
EXPOSE 8080 53/udp
VOLUME /data
HEALTHCHECK --interval=5s CMD true
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/built.txt"]
"#;

fn every_instruction_context() -> tempfile::TempDir {
    let ctx = context(&[
        ("Dockerfile", EVERY_INSTRUCTION),
        ("app/config.txt", "config\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("secret.env", "PASSWORD=1\n"),
        (".dockerignore", "secret.env\n"),
    ]);
    write_tar(ctx.path(), "archive.tar");
    ctx
}

#[test]
fn a_dockerfile_with_every_instruction_builds_an_image_that_runs() {
    let berth = Berth::with_image();
    let ctx = every_instruction_context();
    let progress = build_ok(&berth, ctx.path(), &["-t", "t1", "-t", "t1:v2"]);
    assert!(progress.contains("#1 [build 1/"), "{progress}");
    assert!(
        progress.contains("naming to docker.io/library/t1:latest done"),
        "{progress}"
    );

    // Every file with its owner and mode; the entrypoint and cmd as built.
    let out = berth.ok(&["run", "--rm", "t1"]);
    assert_eq!(out, "hello 1\n");
    let listing = berth.ok(&[
        "run",
        "--rm",
        "t1",
        "cd /app && stat -c '%n %u:%g %a' built.txt heredoc.txt config.txt inline.txt unpacked/inner/a.txt whoami.txt && cat inline.txt heredoc.txt script.txt whoami.txt && ls /src 2>&1; id -un",
    ]);
    for line in [
        "built.txt 0:0 644",
        "heredoc.txt 0:0 644",
        "config.txt 1000:1000 640",
        "inline.txt 0:0 644",
        "unpacked/inner/a.txt 7:8 600",
        "whoami.txt 1234:",
        "inline /app",
        "from a heredoc",
        "from a script",
        "runner",
    ] {
        assert!(listing.contains(line), "{line:?} missing in:\n{listing}");
    }
    assert!(listing.lines().any(|l| l == "1234"), "{listing}");
    // ADD unpacked the tar with its owners (root reads the 0600 file).
    assert_eq!(
        berth.ok(&[
            "run",
            "--rm",
            "-u",
            "0",
            "t1",
            "cat /app/unpacked/inner/a.txt"
        ]),
        "in tar"
    );

    // The config as Docker shows it.
    let image = berth.json(&["image", "inspect", "t1:v2"]);
    let config = &image["Config"];
    assert_eq!(config["User"], "runner");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(config["Cmd"], serde_json::json!(["cat /app/built.txt"]));
    assert_eq!(config["Labels"]["org.example.stage"], "final");
    assert!(config["ExposedPorts"]["8080/tcp"].is_object(), "{config}");
    assert!(config["ExposedPorts"]["53/udp"].is_object(), "{config}");
    assert!(config["Volumes"]["/data"].is_object(), "{config}");
    assert_eq!(config["StopSignal"], "SIGTERM");
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "true"])
    );
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"APP_HOME=/app"), "{env:?}");
    // The first stage's ENV stays in its stage.
    assert!(!env.iter().any(|e| e.starts_with("GREETING=")), "{env:?}");

    // History: BuildKit's created_by forms, metadata steps without a layer.
    let history = berth.ok(&[
        "image",
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}|{{.Size}}",
        "t1",
    ]);
    for form in [
        "CMD [\"cat /app/built.txt\"]|0B",
        "ENTRYPOINT [\"/bin/sh\" \"-c\"]|0B",
        "EXPOSE map[53/udp:{} 8080/tcp:{}]|0B",
        "USER runner|0B",
        "ENV APP_HOME=/app|0B",
        "LABEL org.example.stage=final|0B",
        "RUN /bin/sh -c id -u > /app/whoami.txt # buildkit|",
        // Flags as BuildKit shows them; `--from` is not; a here-document as `<<NAME`.
        "COPY --chown=1000:1000 --chmod=0640 app/config.txt /app/config.txt # buildkit|",
        "COPY /src/built.txt /src/heredoc.txt /src/script.txt ./ # buildkit|",
        "COPY <<EOT /app/inline.txt # buildkit|",
    ] {
        assert!(history.contains(form), "{form:?} missing in:\n{history}");
    }
    // No build container is left, and none was ever listed.
    assert_eq!(berth.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(container_dirs(&berth), 0);
}

#[test]
fn the_cache_hits_again_explains_misses_and_ignores_what_dockerignore_excludes() {
    let berth = Berth::with_image();
    let ctx = every_instruction_context();
    build_ok(&berth, ctx.path(), &["-t", "t1"]);
    let first = berth.ok(&["image", "inspect", "--format", "{{.Id}}", "t1"]);
    let layers = layer_dirs(&berth);

    // The same build again: every step CACHED, the same image, no new layer.
    let again = build_ok(&berth, ctx.path(), &["-t", "t1"]);
    for title in [
        "COPY . /src/",
        "RUN echo \"$GREETING $VERSION\" > /src/built.txt",
        "ADD archive.tar /app/unpacked/",
        "RUN id -u > /app/whoami.txt",
    ] {
        assert!(cached(&again, title), "{title} not cached:\n{again}");
    }
    assert_eq!(
        berth.ok(&["image", "inspect", "--format", "{{.Id}}", "t1"]),
        first
    );
    assert_eq!(layer_dirs(&berth), layers);

    // A touched file and a changed ignored file change nothing.
    let main_rs = ctx.path().join("src/main.rs");
    let f = std::fs::File::options().write(true).open(&main_rs).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    drop(f);
    write(ctx.path(), "secret.env", "PASSWORD=2\n");
    let touched = build_ok(&berth, ctx.path(), &["-t", "t1"]);
    assert!(cached(&touched, "COPY . /src/"), "{touched}");
    assert_eq!(
        berth.ok(&["image", "inspect", "--format", "{{.Id}}", "t1"]),
        first
    );
    // The ignored file never entered the image.
    let ls = berth.run(&["run", "--rm", "t1", "ls /app"]);
    assert!(!stdout(&ls).contains("secret"), "{}", stdout(&ls));

    // One byte changed: that COPY misses, naming the file, and what follows re-runs.
    write(ctx.path(), "src/main.rs", "fn main() {}\n\n");
    let changed = build_ok(&berth, ctx.path(), &["-t", "t1"]);
    let copy = step_lines(&changed, "COPY . /src/");
    assert!(
        copy.iter()
            .any(|l| l.contains("cache miss: src/main.rs changed")),
        "{copy:?}"
    );
    assert!(
        !cached(&changed, "RUN echo \"$GREETING $VERSION\" > /src/built.txt"),
        "{changed}"
    );
    // The second stage's own COPY from the context did not change.
    assert!(
        cached(
            &changed,
            "COPY --chown=1000:1000 --chmod=0640 app/config.txt /app/config.txt"
        ) || changed.contains("parent step changed"),
        "{changed}"
    );
}

#[test]
fn a_build_arg_busts_the_cache_only_from_its_first_use() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo before > /before.txt\nARG V=1\nENV X=1\nRUN echo \"v=$V\" > /v.txt\nRUN cat /v.txt\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "args"]);
    let second = build_ok(&berth, ctx.path(), &["-t", "args", "--build-arg", "V=2"]);
    assert!(cached(&second, "RUN echo before > /before.txt"), "{second}");
    let first_use = step_lines(&second, "RUN echo \"v=$V\" > /v.txt");
    assert!(
        first_use
            .iter()
            .any(|l| l.contains("cache miss: build arg V changed 1 → 2")),
        "{first_use:?}"
    );
    assert!(!cached(&second, "RUN cat /v.txt"), "{second}");
    assert_eq!(berth.ok(&["run", "--rm", "args", "cat", "/v.txt"]), "v=2\n");
    // A RUN's history names the ARGs in scope with their values, as BuildKit's does.
    let history = berth.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "args",
    ]);
    let runs: Vec<&str> = history
        .lines()
        .filter(|l| l.starts_with("RUN ") && l.ends_with("# buildkit"))
        .collect();
    assert_eq!(
        runs,
        [
            "RUN |1 V=2 /bin/sh -c cat /v.txt # buildkit",
            "RUN |1 V=2 /bin/sh -c echo \"v=$V\" > /v.txt # buildkit",
            "RUN /bin/sh -c echo before > /before.txt # buildkit",
        ],
        "{history}"
    );
    // An arg the Dockerfile never declares is reported, as Docker does.
    let unused = build_ok(&berth, ctx.path(), &["--build-arg", "NOPE=1"]);
    assert!(unused.contains("NOPE"), "{unused}");
}

#[test]
fn target_builds_only_the_stages_it_needs() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest AS base\nRUN echo base > /base.txt\n\nFROM berth-test/busybox:latest AS unrelated\nRUN echo unrelated\n\nFROM base AS wanted\nRUN cat /base.txt > /wanted.txt\n\nFROM berth-test/busybox:latest\nRUN echo last\n",
    )]);
    let progress = build_ok(&berth, ctx.path(), &["--target", "wanted", "-t", "wanted"]);
    assert!(
        progress.contains("[base 2/2] RUN echo base > /base.txt"),
        "{progress}"
    );
    assert!(
        progress.contains("[wanted 1/1] RUN cat /base.txt > /wanted.txt"),
        "{progress}"
    );
    assert!(!progress.contains("unrelated"), "{progress}");
    assert!(!progress.contains("echo last"), "{progress}");
    // Before anything runs, the steps of the stages it needs are announced waiting,
    // numbered as they will start. As BuildKit counts: FROM an image is step 1, FROM a
    // stage is no step of its own.
    let waiting: Vec<&str> = progress
        .lines()
        .filter(|l| l.contains(" WAITING "))
        .collect();
    assert_eq!(
        waiting,
        [
            "#1 WAITING [base 1/2] FROM berth-test/busybox:latest",
            "#2 WAITING [base 2/2] RUN echo base > /base.txt",
            "#3 WAITING [wanted 1/1] RUN cat /base.txt > /wanted.txt",
        ],
        "{progress}"
    );
    assert!(progress.contains("\n#3 [wanted 1/1] RUN cat"), "{progress}");
    assert!(!progress.contains("FROM base"), "{progress}");
    assert_eq!(
        berth.ok(&["run", "--rm", "wanted", "cat", "/wanted.txt"]),
        "base\n"
    );
    let missing = build(&berth, ctx.path(), &["--target", "nope"]);
    assert_eq!(code(&missing), 1);
    assert!(
        stderr(&missing).contains("target stage \"nope\" could not be found"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_cache_mount_survives_across_builds() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nARG N=1\nRUN --mount=type=cache,target=/cache echo \"run $N\" >> /cache/log && cat /cache/log > /seen.txt\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "cm"]);
    build_ok(&berth, ctx.path(), &["-t", "cm", "--build-arg", "N=2"]);
    assert_eq!(
        berth.ok(&["run", "--rm", "cm", "cat", "/seen.txt"]),
        "run 1\nrun 2\n"
    );
    // The mount is not part of the image.
    let ls = berth.run(&["run", "--rm", "cm", "ls", "/cache"]);
    assert_eq!(stdout(&ls), "");
}

#[test]
fn a_dockerfile_error_names_file_and_line_and_leaves_nothing() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo ok\n\n\n\n\nRUNN echo typo\n",
    )]);
    let images = berth.ok(&["images", "-a", "-q"]);
    let layers = layer_dirs(&berth);
    let out = build(&berth, ctx.path(), &["-t", "bad"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("Dockerfile:7:"), "{err}");
    assert!(err.to_lowercase().contains("unknown instruction"), "{err}");
    assert!(err.contains("RUNN"), "{err}");
    assert_eq!(berth.ok(&["images", "-a", "-q"]), images);
    assert_eq!(layer_dirs(&berth), layers);
    assert_eq!(container_dirs(&berth), 0);
    let cache = berth.root().join("build/cache");
    assert_eq!(std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_failing_run_shows_its_output_and_exit_code_and_leaves_no_container() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo about to fail && exit 3\n",
    )]);
    let out = build(&berth, ctx.path(), &["-t", "fails"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("about to fail"), "{err}");
    assert!(err.contains("exit code: 3"), "{err}");
    assert_eq!(container_dirs(&berth), 0);
    assert!(berth.run(&["image", "inspect", "fails"]).status.code() != Some(0));
}

#[test]
fn quiet_prints_only_the_id_and_iidfile_gets_it_too() {
    let berth = Berth::with_image();
    let ctx = context(&[("Dockerfile", &format!("FROM {IMAGE}\nRUN echo hi > /hi\n"))]);
    let iid = ctx.path().join("iid");
    let out = build(
        &berth,
        ctx.path(),
        &["-q", "--iidfile", iid.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = stdout(&out);
    assert!(id.starts_with("sha256:") && id.trim().len() == 71, "{id}");
    assert_eq!(stderr(&out), "");
    assert_eq!(std::fs::read_to_string(&iid).unwrap(), id.trim());
    // A platform that isn't the host's, and a remote context, are refused in one line.
    let other = build(&berth, ctx.path(), &["--platform", "linux/s390x"]);
    assert_eq!(code(&other), 1);
    assert!(stderr(&other).contains("linux/s390x"), "{}", stderr(&other));
    let remote = berth.run(&["build", "https://github.com/example/repo.git"]);
    assert_eq!(code(&remote), 1);
    assert!(
        stderr(&remote).contains("remote contexts"),
        "{}",
        stderr(&remote)
    );
}

#[test]
fn builder_prune_removes_the_cache_and_system_df_counts_it() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo hi > /hi\n",
    )]);
    build_ok(&berth, ctx.path(), &[]);
    let df = berth.ok(&["system", "df"]);
    let row = df.lines().find(|l| l.starts_with("Build Cache")).unwrap();
    assert!(!row.contains("Build Cache   0 "), "{df}");
    let out = berth.ok(&["builder", "prune", "-a", "-f"]);
    assert!(out.contains("Total reclaimed space:"), "{out}");
    let again = build_ok(&berth, ctx.path(), &[]);
    assert!(!cached(&again, "RUN echo hi > /hi"), "{again}");
}

/// Image records under the engine root, listed or not.
fn image_records(berth: &Berth) -> usize {
    std::fs::read_dir(berth.root().join("images"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn step_images_stay_in_the_build_cache_out_of_images_and_image_prune() {
    let berth = Berth::with_image();
    let base = berth.ok(&["images", "-a", "-q", "--no-trunc"]);
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo one > /one\nENV A=1\nRUN echo two > /two\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "steps"]);
    let steps = berth.ok(&["images", "-q", "--no-trunc", "steps"]);
    // The steps before the last made images of their own, none of them listed.
    assert!(image_records(&berth) >= 4, "{}", image_records(&berth));
    let listed = berth.ok(&["images", "-a", "-q", "--no-trunc"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains(steps.trim()) && listed.contains(base.trim()),
        "{listed}"
    );
    assert_eq!(berth.ok(&["info", "-f", "{{.Images}}"]), "2\n");
    let pane = berth.ok(&["ui", "--once", "--view", "images", "--format", "json"]);
    assert_eq!(pane.matches("sha256:").count(), 2, "{pane}");
    // An untagged build's own image is listed (as Docker's `<none>`), not its steps.
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM berth-test/busybox:latest\nRUN echo one > /one\nENV A=1\nRUN echo three > /three\n",
    )
    .unwrap();
    build_ok(&berth, ctx.path(), &[]);
    let listed = berth.ok(&["images", "-a", "--format", "{{.Repository}}"]);
    assert_eq!(listed.matches("<none>").count(), 1, "{listed}");
    // image prune takes that one and leaves the steps to the build cache.
    let records = image_records(&berth);
    let pruned = berth.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(pruned.matches("deleted: ").count(), 3, "{pruned}");
    assert_eq!(berth.ok(&["images", "-a", "-q"]), "");
    assert_eq!(image_records(&berth), records - 3);
    let df = berth.ok(&["system", "df"]);
    let total = |kind: &str| {
        let row = df.lines().find(|l| l.starts_with(kind)).unwrap();
        row[kind.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(total("Images"), "0", "{df}");
    assert_ne!(total("Build Cache"), "0", "{df}");
    // The cache still serves the steps; builder prune takes them.
    berth.load_image();
    let again = build_ok(&berth, ctx.path(), &[]);
    assert!(cached(&again, "RUN echo one > /one"), "{again}");
    berth.ok(&["builder", "prune", "-a", "-f"]);
    let left = image_records(&berth);
    let listed = berth.ok(&["images", "-a", "-q"]).lines().count();
    assert_eq!(left, listed, "only listed images are left");
}

#[test]
fn builder_prune_takes_the_step_images_a_no_cache_build_left_unnamed() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo one > /one\nENV A=1\nRUN echo two > /two\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "steps"]);
    let records = image_records(&berth);
    // The same steps again: their entries now name the new images, the old ones no entry.
    build_ok(&berth, ctx.path(), &["-t", "steps", "--no-cache"]);
    assert!(image_records(&berth) > records, "{}", image_records(&berth));
    // Past the minute a running build's newest step image is spared.
    for entry in std::fs::read_dir(berth.root().join("images")).unwrap() {
        let path = entry.unwrap().path();
        let mut record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        record["loaded"] = "2020-01-01T00:00:00Z".into();
        std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
    }
    // Entries used within the hour stay, with their images; the unnamed ones go.
    berth.ok(&["builder", "prune", "-f", "--filter", "until=1h"]);
    // The old build's image is still listed (untagged now); its steps went.
    assert_eq!(image_records(&berth), records + 1);
    let again = build_ok(&berth, ctx.path(), &["-t", "steps"]);
    assert!(cached(&again, "RUN echo two > /two"), "{again}");
}

#[test]
fn ctrl_c_cancels_the_running_step_and_leaves_nothing() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo started && sleep 60\n",
    )]);
    let child = berth
        .cmd()
        .args(["build", "--progress", "plain", ctx.path().to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_until("the RUN step's container", || container_dirs(&berth) > 0);
    // Give the step a moment to be running, then interrupt as a terminal's ctrl-c does.
    std::thread::sleep(std::time::Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("cancelled"), "{}", stderr(&out));
    assert_eq!(container_dirs(&berth), 0);
    common::wait_until("the step's processes to end", || {
        common::processes_of(berth.root()).is_empty()
    });
    // Build containers make no container events.
    let events = berth.ok(&["events", "--since", "1h", "--until", "0s"]);
    assert!(!events.contains(" container "), "{events}");
}

#[test]
fn the_dockerfile_or_a_tar_context_can_come_from_stdin() {
    let berth = Berth::with_image();
    let ctx = context(&[("hello.txt", "hello\n")]);
    let dockerfile = format!("FROM {IMAGE}\nCOPY hello.txt /hello.txt\n");
    let out = berth.run_with_input(
        &[
            "build",
            "-q",
            "-t",
            "fromstdin",
            "-f",
            "-",
            ctx.path().to_str().unwrap(),
        ],
        dockerfile.as_bytes(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        berth.ok(&["run", "--rm", "fromstdin", "cat", "/hello.txt"]),
        "hello\n"
    );

    // `-`: the whole context is a tar on stdin, Dockerfile and all.
    let mut tar = tar::Builder::new(Vec::new());
    for (name, text) in [
        ("Dockerfile", format!("FROM {IMAGE}\nCOPY data/ /data/\n")),
        ("data/x.txt", "from the tar\n".to_owned()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, text.as_bytes()).unwrap();
    }
    let bytes = tar.into_inner().unwrap();
    let out = berth.run_with_input(&["build", "-q", "-t", "tarctx", "-"], &bytes);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        berth.ok(&["run", "--rm", "tarctx", "cat", "/data/x.txt"]),
        "from the tar\n"
    );
    // Nothing of the unpacked context is left in the engine's tmp/.
    let leftovers: Vec<_> = std::fs::read_dir(berth.root().join("tmp"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("build-context-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn system_check_finds_and_repairs_what_a_killed_build_left() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo started && sleep 60\n",
    )]);
    let mut child = berth
        .cmd()
        .args(["build", "--progress", "plain", ctx.path().to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until("the RUN step's container", || container_dirs(&berth) > 0);
    std::thread::sleep(std::time::Duration::from_millis(500));
    // A SIGKILL leaves the builder no time to remove its step container.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(container_dirs(&berth), 1);

    let out = berth.run(&["system", "check"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("build-container"), "{}", stdout(&out));
    let out = berth.run(&["system", "check", "--repair"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(container_dirs(&berth), 0);
    common::wait_until("the step's processes to end", || {
        common::processes_of(berth.root()).is_empty()
    });

    // A cache entry whose step image was removed since is named and removed too.
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo one > /one\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "one"]);
    berth.ok(&["rmi", "one"]);
    let out = berth.run(&["system", "check"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("build-cache"), "{}", stdout(&out));
    let out = berth.run(&["system", "check", "--repair"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(code(&berth.run(&["system", "check"])), 0);
}

#[test]
fn copy_from_a_stage_root_copies_the_whole_root_with_its_owners() {
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest AS src\nRUN mkdir /pkg && echo in-pkg > /pkg/a.txt && chown -R 1000:50 /pkg\n\nFROM scratch AS artifact\nCOPY version.txt /version.txt\nCOPY --from=src /pkg/ /pkg/\n\nFROM berth-test/busybox:latest\nCOPY --from=artifact / /app/artifact/\n",
        ),
        ("version.txt", "v1\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "rootcopy"]);
    let listing = berth.ok(&[
        "run",
        "--rm",
        "rootcopy",
        "sh",
        "-c",
        "cd /app/artifact && stat -c '%n %u:%g' version.txt pkg pkg/a.txt && cat version.txt pkg/a.txt",
    ]);
    assert_eq!(
        listing,
        "version.txt 0:0\npkg 1000:50\npkg/a.txt 1000:50\nv1\nin-pkg\n"
    );
}

#[test]
fn workdir_after_user_is_made_as_that_user() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nRUN echo 'wdowner:x:1234:4321::/:/bin/sh' >> /etc/passwd && echo 'wdgroup:x:4321:' >> /etc/group\nWORKDIR /app\nUSER wdowner\nWORKDIR relative/deeper\nUSER 0\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "wduser"]);
    let listing = berth.ok(&[
        "run",
        "--rm",
        "wduser",
        "stat",
        "-c",
        "%n %u:%g %a",
        "/app",
        "/app/relative",
        "/app/relative/deeper",
    ]);
    assert_eq!(
        listing,
        "/app 0:0 755\n/app/relative 1234:4321 755\n/app/relative/deeper 1234:4321 755\n"
    );
}

#[test]
fn a_scratch_stage_gets_the_default_path() {
    let berth = Berth::with_image();
    let ctx = context(&[
        ("Dockerfile", "FROM scratch\nCOPY x.txt /x.txt\n"),
        ("x.txt", "x\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "scratchpath"]);
    let image = berth.json(&["image", "inspect", "scratchpath"]);
    assert_eq!(
        image["Config"]["Env"],
        serde_json::json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    );
}

/// BuildKit (v0.21 on) gives the directories `COPY --chmod=<octal>` creates that mode, and
/// 0755 for a symbolic one (podman 4.3 makes them 0755 either way).
#[test]
fn copy_chmod_gives_the_directories_it_creates_the_octal_mode() {
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest\nCOPY --chmod=0750 a.txt b.txt /made/sub/\nCOPY --chmod=u+x a.txt /symbolic/a.txt\n",
        ),
        ("a.txt", "a\n"),
        ("b.txt", "b\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "chmoddirs"]);
    let listing = berth.ok(&[
        "run",
        "--rm",
        "chmoddirs",
        "stat",
        "-c",
        "%n %a",
        "/made",
        "/made/sub",
        "/made/sub/a.txt",
        "/symbolic",
        "/symbolic/a.txt",
    ]);
    assert_eq!(
        listing,
        "/made 750\n/made/sub 750\n/made/sub/a.txt 750\n/symbolic 755\n/symbolic/a.txt 744\n"
    );
}

#[test]
fn copy_into_existing_directories_keeps_their_owner_mode_and_files() {
    // A context COPY into directories the image has is stored as its own layer (no
    // build container): the directories it lands in keep the image's owner and mode
    // (a copied directory's own metadata replaces an existing one's, as in Docker), and
    // what they held stays beside the new files.
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest\nRUN mkdir -p /data/keep /data/other && echo old > /data/keep/old.txt && chown 7:8 /data /data/keep /data/other && chmod 0750 /data && chmod 0701 /data/other\nCOPY a/ /data/\nCOPY one.txt /data/other/\nCOPY one.txt /data/other/renamed.txt\n",
        ),
        ("a/new.txt", "new\n"),
        ("a/keep/sub/deep.txt", "deep\n"),
        ("one.txt", "one\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "existing"]);
    let out = berth.ok(&[
        "run",
        "--rm",
        "existing",
        "sh",
        "-c",
        "stat -c '%n %u:%g %a' /data /data/keep /data/other /data/keep/sub /data/new.txt /data/other/one.txt && cat /data/keep/old.txt /data/keep/sub/deep.txt /data/other/renamed.txt",
    ]);
    assert_eq!(
        out,
        "/data 7:8 750\n/data/keep 0:0 755\n/data/other 7:8 701\n/data/keep/sub 0:0 755\n/data/new.txt 0:0 644\n/data/other/one.txt 0:0 644\nold\ndeep\none\n"
    );
}

/// A context a container image or a checkout could hand the user: a FIFO, a device node,
/// a symlink loop, links pointing out of the context, a 10 GB sparse file. Nothing hangs
/// (a FIFO is never opened), nothing outside the context is read, what is not selected
/// is never read (the sparse file's 10 GB are not hashed unless a COPY names it), and a
/// sparse file that is copied arrives whole.
#[test]
fn a_hostile_context_never_hangs_or_escapes() {
    use std::os::unix::fs::symlink;
    let berth = Berth::with_image();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", "outside the context\n");
    let ctx = context(&[
        ("small.txt", "small\n"),
        (".dockerignore", "huge.img\n"),
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest\n\
             COPY . /ctx/\n\
             RUN test -p /ctx/fifo && test -L /ctx/loop1 && test -L /ctx/out \
             && ! test -e /ctx/huge.img && test \"$(cat /ctx/small.txt)\" = small \
             && test \"$(wc -c < /ctx/sparse.img)\" = 67108864 \
             && test \"$(tail -c 3 /ctx/sparse.img)\" = end && ls -l /ctx/ > /ls.txt\n",
        ),
    ]);
    let root = ctx.path();
    nix::unistd::mkfifo(
        &root.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    // A device node, when this machine lets us make one (the null device's numbers).
    let device = nix::sys::stat::mknod(
        &root.join("null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .is_ok();
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    symlink(outside.path().join("secret"), root.join("out")).unwrap();
    symlink("../../../../../../../../..", root.join("up")).unwrap();
    let sparse = |name: &str, size: u64| {
        use std::os::unix::fs::FileExt;
        let f = std::fs::File::create(root.join(name)).unwrap();
        f.set_len(size).unwrap();
        f.write_all_at(b"end", size - 3).unwrap();
    };
    // Copied: streamed, not held in memory.
    sparse("sparse.img", 64 << 20);
    // Ignored for `COPY .`, named by a COPY below.
    sparse("huge.img", 10 << 30);

    let out = build_ok(&berth, root, &["-t", "hostile"]);
    assert!(out.contains("DONE"), "{out}");
    let ls = berth.ok(&["run", "--rm", "hostile", "cat", "/ls.txt"]);
    if device {
        let null = ls
            .lines()
            .find(|l| l.ends_with(" null"))
            .unwrap_or_default();
        assert!(null.starts_with('c') && null.contains("1,"), "{ls}");
    }
    // The links travel as links: their targets are not read.
    let out_link = berth.run(&["run", "--rm", "hostile", "cat", "/ctx/out"]);
    assert_ne!(code(&out_link), 0, "{}", stdout(&out_link));
    assert!(!stdout(&out_link).contains("outside the context"));

    // Named sources: a loop is an error, a link out resolves inside the context (not
    // found there), a FIFO named directly is an entry, not a read that waits forever.
    let cases: [(&str, &str); 3] = [
        ("COPY loop1 /x", "too many levels of symbolic links"),
        ("COPY out /x", "not found"),
        ("COPY up/etc/passwd /x", "not found"),
    ];
    for (copy, message) in cases {
        write(
            root,
            "Dockerfile",
            &format!("FROM berth-test/busybox:latest\n{copy}\n"),
        );
        let out = build(&berth, root, &[]);
        assert_eq!(code(&out), 1, "{copy}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{copy}: {}", stderr(&out));
    }
    write(
        root,
        "Dockerfile",
        "FROM berth-test/busybox:latest\nCOPY fifo /x\nRUN test -p /x\n",
    );
    build_ok(&berth, root, &[]);
    // The 10 GB file named (and ignored): missing, at once, never read.
    write(
        root,
        "Dockerfile",
        "FROM berth-test/busybox:latest\nCOPY huge.img /x\n",
    );
    let out = build(&berth, root, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

/// A tar of `entries`: (path, kind), kind `d` a directory, `f:TEXT` a file, `l:TARGET` a
/// symlink (OCI whiteouts are files named `.wh.NAME`).
fn layer_tar(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, kind) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        header.set_mtime(0);
        if *kind == "d" {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            tar.append_data(&mut header, format!("{path}/"), std::io::empty())
                .unwrap();
        } else if let Some(target) = kind.strip_prefix("l:") {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            tar.append_link(&mut header, path, target).unwrap();
        } else {
            let text = kind.strip_prefix("f:").unwrap_or_default();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(text.len() as u64);
            tar.append_data(&mut header, path, text.as_bytes()).unwrap();
        }
    }
    tar.into_inner().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads the fixture image with `layers` added on top as `tag` (a `save` archive, edited:
/// one more layer tar each, the config's diff IDs and history to match).
fn load_with_layers(berth: &Berth, tag: &str, layers: &[Vec<u8>]) {
    use std::io::Read;
    let saved = berth
        .cmd()
        .args(["save", IMAGE])
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(saved.status.success(), "{}", stderr(&saved));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut archive = tar::Archive::new(&saved.stdout[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.push((name, data));
    }
    // Only the Docker form: no OCI index to prefer over the edited manifest.
    files.retain(|(n, _)| !matches!(n.as_str(), "index.json" | "oci-layout" | "repositories"));
    let get = |files: &[(String, Vec<u8>)], name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} in the saved archive"))
            .1
            .clone()
    };
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&get(&files, "manifest.json")).unwrap();
    let config_name = manifest[0]["Config"].as_str().unwrap().to_owned();
    let mut config: serde_json::Value = serde_json::from_slice(&get(&files, &config_name)).unwrap();
    for (i, layer) in layers.iter().enumerate() {
        let name = format!("hostile{i}/layer.tar");
        files.push((name.clone(), layer.clone()));
        manifest[0]["Layers"]
            .as_array_mut()
            .unwrap()
            .push(name.into());
        config["rootfs"]["diff_ids"]
            .as_array_mut()
            .unwrap()
            .push(format!("sha256:{}", sha256_hex(layer)).into());
        if let Some(history) = config["history"].as_array_mut() {
            history.push(serde_json::json!({"created_by": format!("hostile layer {i}")}));
        }
    }
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_name = format!("{}.json", sha256_hex(&config_bytes));
    manifest[0]["Config"] = config_name.clone().into();
    manifest[0]["RepoTags"] = serde_json::json!([tag]);
    files.retain(|(n, _)| n != "manifest.json");
    files.push((config_name, config_bytes));
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    let mut out = tar::Builder::new(Vec::new());
    for (name, data) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        out.append_data(&mut header, name, &data[..]).unwrap();
    }
    let out = out.into_inner().unwrap();
    let loaded = berth.run_with_input(&["load"], &out);
    assert_eq!(code(&loaded), 0, "load: {}", stderr(&loaded));
}

/// A base image whose `/app` links to a host directory, with a link loop and a lower
/// directory hidden by a whiteout: every lookup stays inside the image (the host's
/// directory is neither read nor written) and gives Docker's result.
#[test]
fn a_hostile_base_image_never_leads_a_copy_outside_the_image() {
    let berth = Berth::with_image();
    // The host side the image's absolute link names: a directory holding one.
    let host = tempfile::Builder::new()
        .prefix("berth-hostile-")
        .tempdir()
        .unwrap();
    std::fs::create_dir(host.path().join("secretdir")).unwrap();
    let host_path = host.path().to_str().unwrap().to_owned();
    // The image has the link's target too, without `secretdir` in it.
    let host_rel = host_path.trim_start_matches('/').to_owned();
    let app_link = format!("l:{host_path}");
    let lower = layer_tar(&[
        (host_rel.as_str(), "d"),
        ("victim", "d"),
        ("victim/file", "f:old"),
        ("opq", "d"),
        ("opq/old", "f:old"),
    ]);
    let upper = layer_tar(&[
        ("app", app_link.as_str()),
        ("up", "l:../../../../.."),
        ("loop1", "l:loop2"),
        ("loop2", "l:loop1"),
        (".wh.victim", "f:"),
        ("opq", "d"),
        ("opq/.wh..wh..opq", "f:"),
        ("opq/new", "f:new"),
    ]);
    load_with_layers(&berth, "berth-test/hostile:latest", &[lower, upper]);

    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/hostile:latest AS base\n\
             COPY x.txt /app/secretdir\n\
             COPY x.txt /up/landed.txt\n\
             WORKDIR /victim\n\
             COPY x.txt ./\n\
             FROM berth-test/busybox:latest\n\
             COPY --from=berth-test/hostile:latest /opq/* /got/\n\
             COPY --from=base /vict* /got/\n",
        ),
        ("x.txt", "x\n"),
    ]);
    build_ok(
        &berth,
        ctx.path(),
        &["--target", "base", "-t", "hostile-built"],
    );
    // `/app/secretdir` resolved in the image: absent there, so a file (Docker's result),
    // not a copy into the host's directory of that name.
    let out = berth.ok(&[
        "run",
        "--rm",
        "hostile-built",
        "sh",
        "-c",
        &format!(
            "cat /app/secretdir {host_path}/secretdir /landed.txt && ls -A /victim && ls -A /opq"
        ),
    ]);
    assert_eq!(out, "x\nx\nx\nx.txt\nnew\n");
    let left: Vec<_> = std::fs::read_dir(host.path().join("secretdir"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "the host directory was written: {left:?}");

    // Wildcards in a stage: whiteouts and opaque directories hide what they hide.
    build_ok(&berth, ctx.path(), &["-t", "hostile-final"]);
    let got = berth.ok(&["run", "--rm", "hostile-final", "ls", "-A", "/got"]);
    assert_eq!(got, "new\nx.txt\n");

    // A link loop in the destination: one clear line, exit 1, nothing hangs.
    let looped = context(&[
        (
            "Dockerfile",
            "FROM berth-test/hostile:latest\nCOPY x.txt /loop1/x.txt\n",
        ),
        ("x.txt", "x\n"),
    ]);
    let out = build(&berth, looped.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("too many levels of symbolic links"),
        "{}",
        stderr(&out)
    );
    // A wildcard matching only what a whiteout hides: Docker's "not found".
    let hidden = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nCOPY --from=berth-test/hostile:latest /vict* /got/\n",
    )]);
    let out = build(&berth, hidden.path(), &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"/vict*\": not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn copy_from_a_stage_expands_wildcards_in_its_files() {
    let berth = Berth::with_image();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest AS build\n\
         RUN mkdir -p /out/sub && echo a > /out/a.txt && echo b > /out/b.txt && echo c > /out/c.log && echo s > /out/sub/s.txt && ln -s a.txt /out/link.txt\n\
         FROM berth-test/busybox:latest\n\
         COPY --from=build /out/*.txt /all/\n\
         COPY --from=build /out/[ab].txt /ab/\n\
         COPY --from=build /out/c.* /single\n\
         COPY --from=build /out/s* /dirs/\n",
    )]);
    build_ok(&berth, ctx.path(), &["-t", "fromglob"]);
    let out = berth.ok(&[
        "run",
        "--rm",
        "fromglob",
        "sh",
        "-c",
        "ls -A /all /ab /dirs && cat /single /all/link.txt",
    ]);
    assert_eq!(
        out,
        "/ab:\na.txt\nb.txt\n\n/all:\na.txt\nb.txt\nlink.txt\n\n/dirs:\ns.txt\nc\na\n"
    );
    // No match: Docker's "not found", exit 1, nothing tagged.
    let none = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest AS build\nRUN mkdir /out\nFROM berth-test/busybox:latest\nCOPY --from=build /out/*.none /x/\n",
    )]);
    let out = build(&berth, none.path(), &["-t", "fromglob-none"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"/out/*.none\": not found"),
        "{}",
        stderr(&out)
    );
    assert_ne!(code(&berth.run(&["image", "inspect", "fromglob-none"])), 0);
}

#[test]
fn run_mount_bind_from_a_stage_shows_its_files_and_keys_the_step() {
    let berth = Berth::with_image();
    let dockerfile = |version: &str| {
        format!(
            "FROM berth-test/busybox:latest AS build\n\
             RUN mkdir -p /out && echo {version} > /out/v.txt\n\
             FROM berth-test/busybox:latest\n\
             RUN --mount=type=bind,from=build,source=/out,target=/mnt cat /mnt/v.txt > /seen.txt\n\
             RUN --mount=type=bind,from=build,target=/stage,rw echo scratch > /stage/out/v.txt && cat /stage/out/v.txt > /rw.txt\n\
             RUN --mount=type=bind,from=build,source=/out,target=/ro touch /ro/x 2>/dev/null; echo $? > /ro.txt\n"
        )
    };
    let ctx = context(&[("Dockerfile", &dockerfile("v1"))]);
    build_ok(&berth, ctx.path(), &["-t", "mountfrom"]);
    let out = berth.ok(&[
        "run",
        "--rm",
        "mountfrom",
        "sh",
        "-c",
        "cat /seen.txt /rw.txt /ro.txt",
    ]);
    assert_eq!(out, "v1\nscratch\n1\n");
    // The rw copy was thrown away: the stage is as it was for the next build.
    let again = build_ok(&berth, ctx.path(), &["-t", "mountfrom"]);
    assert!(cached(&again, "cat /mnt/v.txt > /seen.txt"), "{again}");
    // The stage's result is part of the key.
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile("v2")).unwrap();
    let changed = build_ok(&berth, ctx.path(), &["-t", "mountfrom"]);
    assert!(!cached(&changed, "cat /mnt/v.txt > /seen.txt"), "{changed}");
    assert_eq!(
        berth.ok(&["run", "--rm", "mountfrom", "cat", "/seen.txt"]),
        "v2\n"
    );
    let tmp = berth.root().join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().starts_with("build-mount-")),
        "{left:?}"
    );
}

#[test]
fn run_mount_bind_rw_of_the_context_never_changes_the_users_files() {
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest\nRUN --mount=type=bind,source=src,target=/src,rw echo changed > /src/a.txt && cat /src/a.txt > /copy.txt\n",
        ),
        ("src/a.txt", "original\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "mountctx"]);
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("src/a.txt")).unwrap(),
        "original\n"
    );
    assert_eq!(
        berth.ok(&["run", "--rm", "mountctx", "cat", "/copy.txt"]),
        "changed\n"
    );
    // The bound files are part of the key.
    write(ctx.path(), "src/a.txt", "edited\n");
    let again = build_ok(&berth, ctx.path(), &["-t", "mountctx"]);
    assert!(!cached(&again, "cat /src/a.txt > /copy.txt"), "{again}");
}

/// BuildKit's `--link`: the files in a layer of their own, made on an empty tree (no link
/// of the base followed, missing parents made root's 0755, shown over the base's).
#[test]
fn copy_link_makes_a_layer_independent_of_the_base() {
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest AS build\n\
             RUN mkdir -p /out && echo built > /out/b.txt\n\
             FROM berth-test/busybox:latest\n\
             RUN ln -s /etc /lnk && mkdir -p /opt/d && chmod 0700 /opt/d && chown 5:6 /opt/d\n\
             COPY --link x.txt /lnk/x.txt\n\
             COPY --link x.txt /opt/d/sub/\n\
             COPY --link --from=build /out/ /linked/\n",
        ),
        ("x.txt", "x\n"),
    ]);
    build_ok(&berth, ctx.path(), &["-t", "linked"]);
    let out = berth.ok(&[
        "run",
        "--rm",
        "linked",
        "sh",
        "-c",
        "stat -c '%n %F %u:%g %a' /lnk /opt/d /opt/d/sub /opt/d/sub/x.txt; test -e /etc/x.txt || echo no-etc-x; cat /lnk/x.txt /linked/b.txt",
    ]);
    assert_eq!(
        out,
        "/lnk directory 0:0 755\n/opt/d directory 0:0 755\n/opt/d/sub directory 0:0 755\n/opt/d/sub/x.txt regular file 0:0 644\nno-etc-x\nx\nbuilt\n"
    );
    let again = build_ok(&berth, ctx.path(), &["-t", "linked"]);
    assert!(cached(&again, "COPY --link x.txt /lnk/x.txt"), "{again}");
}

/// `COPY --link` copies onto an empty tree, so its layer does not depend on the base: a
/// rebuild on a changed base reuses it (CACHED, the same layer), and the image has the new
/// base's files and the copied ones.
#[test]
fn a_link_copy_is_reused_when_its_base_changes() {
    let berth = Berth::with_image();
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM berth-test/busybox:latest AS base\nARG V=1\nRUN echo $V > /base.txt\n\n\
             FROM base\nCOPY --link a.txt /app/a.txt\nRUN cat /base.txt /app/a.txt > /both.txt\n",
        ),
        ("a.txt", "a\n"),
    ]);
    let layers = |berth: &Berth| -> Vec<String> {
        let image = berth.json(&["image", "inspect", "linked"]);
        image["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect()
    };
    let copy = "COPY --link a.txt /app/a.txt";
    let first = build_ok(&berth, ctx.path(), &["-t", "linked"]);
    assert!(!cached(&first, copy), "{first}");
    let before = layers(&berth);
    let progress = build_ok(&berth, ctx.path(), &["--build-arg", "V=2", "-t", "linked"]);
    assert!(!cached(&progress, "RUN echo $V > /base.txt"), "{progress}");
    assert!(cached(&progress, copy), "{progress}");
    assert!(
        !cached(&progress, "RUN cat /base.txt /app/a.txt > /both.txt"),
        "{progress}"
    );
    let after = layers(&berth);
    assert_eq!(before.len(), after.len());
    let link_layer = before.len() - 2;
    assert_ne!(
        before[link_layer - 1],
        after[link_layer - 1],
        "the base changed"
    );
    assert_eq!(
        before[link_layer], after[link_layer],
        "the copied layer is reused"
    );
    assert_eq!(
        berth.ok(&["run", "--rm", "linked", "cat", "/both.txt", "/app/a.txt"]),
        "2\na\na\n"
    );
    // Back to the first base: every step is the first build's again.
    let again = build_ok(&berth, ctx.path(), &["-t", "linked"]);
    assert!(cached(&again, copy), "{again}");
    assert!(
        cached(&again, "RUN cat /base.txt /app/a.txt > /both.txt"),
        "{again}"
    );
    assert_eq!(layers(&berth), before);
}

/// `cap_net_raw+ep` (revision 2), as `setcap` writes it.
const NET_RAW_CAP: [u8; 20] = [1, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The effective capabilities of `/opt/busybox-cap` (busybox with file capabilities; the
/// name keeps busybox's `busybox` prefix) run as a user with none of its own; `--privileged` lifts berth's no_new_privs, which would ignore them.
fn cap_eff(berth: &Berth, image: &str) -> String {
    berth.ok(&[
        "run",
        "--rm",
        "--privileged",
        "--user",
        "1000",
        image,
        "/opt/busybox-cap",
        "grep",
        "CapEff",
        "/proc/self/status",
    ])
}

/// The `SCHILY.xattr.security.capability` records of `path`'s entries in the layers of a
/// `save` archive.
fn saved_capabilities(saved: &[u8], path: &str) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut outer = tar::Archive::new(saved);
    for member in outer.entries().unwrap() {
        let mut member = member.unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut member, &mut bytes).unwrap();
        let mut layer = tar::Archive::new(&bytes[..]);
        let Ok(entries) = layer.entries() else {
            continue;
        };
        for entry in entries {
            let Ok(mut entry) = entry else { break };
            if entry.path_bytes().as_ref() != path.as_bytes() {
                continue;
            }
            if let Ok(Some(pax)) = entry.pax_extensions() {
                for ext in pax.flatten() {
                    if ext.key() == Ok("SCHILY.xattr.security.capability") {
                        found.push(ext.value_bytes().to_vec());
                    }
                }
            }
        }
    }
    found
}

/// File capabilities are kept as Docker keeps them (a PAX `SCHILY.xattr.security.capability`
/// record): through a RUN step's layer (the file copied up by a `chmod`), `commit`, and
/// `save | load` into another engine.
#[test]
fn file_capabilities_survive_a_run_step_commit_and_save_load() {
    let berth = Berth::with_image();
    let busybox = berth.run(&["run", "--rm", IMAGE, "cat", "/bin/busybox"]);
    assert_eq!(code(&busybox), 0, "{}", stderr(&busybox));
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth-test/busybox:latest\nCOPY bb /opt/busybox-cap\nRUN chmod 755 /opt/busybox-cap\n",
    )]);
    let bb = ctx.path().join("bb");
    std::fs::write(&bb, &busybox.stdout).unwrap();
    let path = std::ffi::CString::new(bb.to_str().unwrap()).unwrap();
    // SAFETY: NUL-terminated strings; the value outlives the call.
    let set = unsafe {
        libc::setxattr(
            path.as_ptr(),
            c"security.capability".as_ptr(),
            NET_RAW_CAP.as_ptr().cast(),
            NET_RAW_CAP.len(),
            0,
        )
    };
    assert_eq!(set, 0, "setting a file capability (needs root)");
    build_ok(&berth, ctx.path(), &["-t", "capped"]);
    let raw = "CapEff:\t0000000000002000\n";
    assert_eq!(cap_eff(&berth, "capped"), raw);
    // The RUN's layer (the top one) records the capability of the file it copied up.
    let saved = berth.run(&["save", "capped"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let records = saved_capabilities(&saved.stdout, "opt/busybox-cap");
    assert_eq!(records, [NET_RAW_CAP.to_vec(), NET_RAW_CAP.to_vec()]);

    // commit: a container's copy-up (a chmod to the same mode copies up too) keeps it.
    berth.ok(&[
        "run",
        "--name",
        "capc",
        "capped",
        "chmod",
        "755",
        "/opt/busybox-cap",
    ]);
    berth.ok(&["commit", "capc", "capped:committed"]);
    berth.ok(&["rm", "capc"]);
    assert_eq!(cap_eff(&berth, "capped:committed"), raw);
    let committed = berth.run(&["save", "capped:committed"]);
    assert_eq!(
        saved_capabilities(&committed.stdout, "opt/busybox-cap").len(),
        3,
        "the committed layer records it"
    );

    // save | load into another engine: the unpacked layers have it.
    let other = Berth::new();
    let loaded = other.run_with_input(&["load"], &saved.stdout);
    assert_eq!(code(&loaded), 0, "{}", stderr(&loaded));
    assert_eq!(cap_eff(&other, "capped"), raw);
}
