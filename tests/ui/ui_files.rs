//! The dashboard's file view over a real engine: the copies its worker runs (host to
//! container and back, running and stopped, with `cp`'s rules, counted and cancellable)
//! and the view's frame as `berth ui --once --view files` prints it.

use crate::common;

use std::path::Path;

use berth::engine::storage::progress::Progress;
use berth::engine::Engine;
use berth::tui::effect::{CopyJob, Target};
use berth::tui::files::{copy, Side};
use common::{Berth, IMAGE};

/// Bytes no two offsets of which repeat within a block: a misplaced chunk would show.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1])
        .collect()
}

fn job(
    berth: &Berth,
    container: &str,
    from: Side,
    src: &str,
    names: &[&str],
    dest: &str,
) -> CopyJob {
    let record = berth.inspect(container);
    CopyJob {
        container: Target {
            id: record["Id"].as_str().expect("an ID").to_owned(),
            name: container.to_owned(),
        },
        from,
        src_dir: src.to_owned(),
        names: names.iter().map(|n| n.to_string()).collect(),
        dest_dir: dest.to_owned(),
        progress: Progress::new(),
    }
}

/// Runs the job as the worker does, returning its message and the entries announced.
fn run(engine: &Engine, job: &CopyJob) -> (Result<String, String>, Vec<String>) {
    let mut announced = Vec::new();
    let result = copy(engine, job, |i, name| announced.push(format!("{i}:{name}")));
    (result, announced)
}

/// A host directory with a 3 MB file, a tree with a nested file and a relative symlink.
fn host_tree() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let big = payload(3 << 20);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    std::fs::create_dir_all(dir.path().join("tree/sub")).unwrap();
    std::fs::write(dir.path().join("tree/sub/note"), b"inside\n").unwrap();
    std::os::unix::fs::symlink("sub/note", dir.path().join("tree/link")).unwrap();
    (dir, big)
}

fn check_tree_back(dir: &Path, big: &[u8]) {
    assert_eq!(std::fs::read(dir.join("big.bin")).unwrap(), big);
    assert_eq!(
        std::fs::read(dir.join("tree/sub/note")).unwrap(),
        b"inside\n"
    );
    assert_eq!(
        std::fs::read_link(dir.join("tree/link")).unwrap(),
        Path::new("sub/note")
    );
}

#[test]
fn files_copy_both_ways_with_a_running_and_a_stopped_container() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "1000"]);
    berth.ok(&["create", "--name", "job", IMAGE, "true"]);
    let engine = Engine::open(berth.root()).unwrap();
    let (host, big) = host_tree();
    let src = host.path().to_str().unwrap();

    for name in ["web", "job"] {
        // Host to container, into an existing directory.
        let into = job(&berth, name, Side::Host, src, &["big.bin", "tree"], "/tmp");
        let (result, announced) = run(&engine, &into);
        let said = result.unwrap_or_else(|e| panic!("copy into {name}: {e}"));
        assert!(said.starts_with("copied big.bin, tree ("), "{said}");
        assert!(said.ends_with(&format!("to {name}:/tmp")), "{said}");
        assert_eq!(announced, ["0:big.bin", "1:tree"]);
        // Counted as tar bytes: at least the payload, with headers and padding.
        assert!(
            into.progress.bytes() > big.len() as u64,
            "{}",
            into.progress.bytes()
        );

        // What berth cp sees in the container is what was on the host.
        let out = tempfile::tempdir().unwrap();
        let out_file = out.path().join("big.bin");
        berth.ok(&[
            "cp",
            &format!("{name}:/tmp/big.bin"),
            out_file.to_str().unwrap(),
        ]);
        assert_eq!(std::fs::read(&out_file).unwrap(), big);

        // Container to host, into an existing directory.
        let back_dir = tempfile::tempdir().unwrap();
        let back = job(
            &berth,
            name,
            Side::Container,
            "/tmp",
            &["big.bin", "tree"],
            back_dir.path().to_str().unwrap(),
        );
        let (result, _) = run(&engine, &back);
        result.unwrap_or_else(|e| panic!("copy out of {name}: {e}"));
        check_tree_back(back_dir.path(), &big);
        // Owned by the user, as cp without -a.
        let meta = std::fs::metadata(back_dir.path().join("big.bin")).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
    }
    // The running container reads what arrived.
    assert_eq!(
        berth.ok(&["exec", "web", "cat", "/tmp/tree/link"]),
        "inside\n"
    );
}

#[test]
fn a_cancelled_or_failing_copy_says_so_in_one_line() {
    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "1000"]);
    let engine = Engine::open(berth.root()).unwrap();
    let (host, _) = host_tree();
    let src = host.path().to_str().unwrap();

    let cancelled = job(&berth, "web", Side::Host, src, &["big.bin", "tree"], "/tmp");
    cancelled.progress.cancel();
    let (result, announced) = run(&engine, &cancelled);
    assert_eq!(
        result,
        Err("copy cancelled: web:/tmp/big.bin not created".into())
    );
    assert_eq!(announced, ["0:big.bin"], "stops at the first entry");
    let out = berth.run(&["exec", "web", "ls", "/tmp/tree"]);
    assert!(!out.status.success(), "the second entry was not copied");

    let out_dir = tempfile::tempdir().unwrap();
    let cancelled = job(
        &berth,
        "web",
        Side::Container,
        "/bin",
        &["busybox"],
        out_dir.path().to_str().unwrap(),
    );
    cancelled.progress.cancel();
    let (result, _) = run(&engine, &cancelled);
    let busybox = out_dir.path().join("busybox");
    assert_eq!(
        result,
        Err(format!("copy cancelled: {} not created", busybox.display()))
    );
    assert!(!busybox.exists());

    let missing = job(&berth, "web", Side::Container, "/", &["nothing"], src);
    let (result, _) = run(&engine, &missing);
    let err = result.unwrap_err();
    assert!(err.starts_with("copying nothing: "), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn the_file_view_renders_both_sides() {
    let berth = Berth::with_image();
    berth.ok(&["volume", "create", "data"]);
    berth.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-v",
        "data:/data",
        "--tmpfs",
        "/scratch",
        IMAGE,
        "sleep",
        "1000",
    ]);
    berth.ok(&["exec", "web", "ln", "-s", "/etc", "/etclink"]);
    let (host, _) = host_tree();
    let out = berth
        .cmd()
        .current_dir(host.path())
        .args([
            "ui", "--once", "--width", "100", "--height", "22", "--view", "files", "--select",
            "web",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    let real = std::fs::canonicalize(host.path()).unwrap();
    let text = text.replace(real.to_str().unwrap(), "[HOST]");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    // The masked path is shorter or longer than the real one: close the gap.
    settings.add_filter(r"\[HOST\] ─+", "[HOST] ");
    settings.bind(|| insta::assert_snapshot!("files", text));
    // And on the smallest screen the dashboard promises.
    let out = berth
        .cmd()
        .current_dir(host.path())
        .args(["ui", "--once", "--view", "files", "--select", "web"])
        .args(["--width", "80", "--height", "24"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = common::stdout(&out).replace(real.to_str().unwrap(), "[HOST]");
    settings.bind(|| insta::assert_snapshot!("files_80x24", text));

    let json: serde_json::Value = serde_json::from_str(&berth.ok(&[
        "ui", "--once", "--view", "files", "--select", "web", "--format", "json",
    ]))
    .expect("JSON from ui --once");
    assert_eq!(json["Container"], "web");
    let inside = json["ContainerFiles"]["entries"].as_array().unwrap();
    let data = inside.iter().find(|e| e["name"] == "data").unwrap();
    assert_eq!(data["mount"], "volume");
    let link = inside.iter().find(|e| e["name"] == "etclink").unwrap();
    assert_eq!(link["link_target"], "/etc");

    // Without a container there is nothing to open.
    let err = Berth::new().fail(&["ui", "--once", "--view", "files"]);
    assert!(err.contains("--select CONTAINER"), "{err}");
}

/// The user answers "overwrite" and cancels part way: the old file is whole on either
/// side, the popup's bar had a total, and the dashboard says what was kept.
#[test]
fn a_cancelled_overwrite_keeps_the_old_file_and_says_so() {
    use berth::tui::effect::Effect;
    use berth::tui::files::{Copying, FilesView};
    use berth::tui::keymap::Keymap;
    use berth::tui::msg::Msg;
    use berth::tui::once::render_text;
    use berth::tui::state::{App, Popup};
    use berth::tui::update::update;

    let berth = Berth::with_image();
    berth.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "1000"]);
    let engine = Engine::open(berth.root()).unwrap();
    let (host, new) = host_tree();
    let src = host.path().to_str().unwrap();
    let old = payload(1 << 20)
        .iter()
        .map(|b| b ^ 0x5a)
        .collect::<Vec<u8>>();
    let old_dir = tempfile::tempdir().unwrap();
    let old_file = old_dir.path().join("big.bin");
    std::fs::write(&old_file, &old).unwrap();
    berth.ok(&["cp", old_file.to_str().unwrap(), "web:/tmp/big.bin"]);

    // Host to container, over the container's big.bin.
    let into = job(&berth, "web", Side::Host, src, &["big.bin"], "/tmp");
    into.progress.cancel_after(1 << 20);
    let (result, _) = run(&engine, &into);
    let said = result.unwrap_err();
    assert_eq!(said, "copy cancelled: web:/tmp/big.bin kept as it was");
    // The bar had the size to fill: the file plus its tar header and the end blocks.
    assert_eq!(into.progress.total(), Some(new.len() as u64 + 512 + 1024));
    let back = old_dir.path().join("back");
    berth.ok(&["cp", "web:/tmp/big.bin", back.to_str().unwrap()]);
    assert!(
        std::fs::read(&back).unwrap() == old,
        "the container's file changed"
    );
    let listed = berth.ok(&["exec", "web", "ls", "-a", "/tmp"]);
    assert!(!listed.contains(".berth-cp-"), "{listed}");

    // Container to host, over the host's file.
    berth.ok(&["cp", &format!("{src}/big.bin"), "web:/tmp/big.bin"]);
    let out = job(
        &berth,
        "web",
        Side::Container,
        "/tmp",
        &["big.bin"],
        old_dir.path().to_str().unwrap(),
    );
    out.progress.cancel_after(1 << 20);
    let (result, _) = run(&engine, &out);
    assert_eq!(
        result,
        Err(format!(
            "copy cancelled: {} kept as it was",
            old_file.display()
        ))
    );
    assert!(
        std::fs::read(&old_file).unwrap() == old,
        "the host file changed"
    );
    let staged = std::fs::read_dir(old_dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(".berth-cp-")
        })
        .count();
    assert_eq!(staged, 0);

    // What the dashboard shows when the copy ends so.
    let mut app = App::new(Keymap::default());
    let mut files = FilesView::new(out.container.clone());
    files.copying = Some(Copying {
        progress: out.progress.clone(),
        entry: "big.bin".into(),
        index: 0,
        total: 1,
    });
    app.files = Some(files);
    app.popup = Some(Popup::Copy);
    let effects = update(&mut app, Msg::Copied(Err(said)));
    assert!(effects.iter().all(|e| matches!(e, Effect::ListDir(_))));
    // The popup stays, on what was kept, until a key closes it.
    assert!(
        matches!(&app.popup, Some(Popup::Output { text, .. }) if text.ends_with("kept as it was")),
        "{:?}",
        app.popup
    );
    let text = render_text(&app, 100, 20);
    assert!(
        text.contains("copy cancelled: web:/tmp/big.bin kept as it was"),
        "{text}"
    );
}
