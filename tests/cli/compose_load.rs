//! The compose loader against data: each directory under tests/fixtures/compose/ is a
//! project (many ported from compose-go's loader tests) with a `case.json` that names the
//! files and environment and keeps the expected canonical model (`$DIR` = the case's
//! directory), or the expected error line, and the expected warnings.

use berth::compose::load::{load, render, ConfigFormat, LoadErrorKind, LoadOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose")
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn options(dir: &Path, case: &Value) -> LoadOptions {
    let mut environment: BTreeMap<String, String> = BTreeMap::new();
    if let Some(env) = case.get("env").and_then(Value::as_object) {
        for (k, v) in env {
            environment.insert(k.clone(), v.as_str().unwrap().to_string());
        }
    }
    environment.insert("HOME".into(), "/home/tester".into());
    LoadOptions {
        files: strings(case.get("files"))
            .into_iter()
            .map(|f| dir.join(f))
            .collect(),
        project_name: case
            .get("project_name")
            .and_then(Value::as_str)
            .map(str::to_string),
        project_directory: None,
        profiles: strings(case.get("profiles")),
        named_services: strings(case.get("named_services")),
        env_files: strings(case.get("env_files"))
            .into_iter()
            .map(|f| dir.join(f))
            .collect(),
        environment,
        working_dir: dir.to_path_buf(),
    }
}

fn with_dir(v: &Value, dir: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("$DIR", dir)),
        Value::Array(a) => Value::Array(a.iter().map(|x| with_dir(x, dir)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), with_dir(x, dir)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Runs one case; returns a description of the mismatch, if any.
fn run_case(dir: &Path) -> Option<String> {
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let opts = options(dir, &case);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let result = load(&opts);
    if let Some(want) = case.get("error").and_then(Value::as_str) {
        return match result {
            Ok(l) => Some(format!(
                "{name}: loaded, expected error {want:?}: {}",
                l.model
            )),
            Err(e) if e.to_string() == want => None,
            Err(e) => Some(format!(
                "{name}: error {:?}, expected {want:?}",
                e.to_string()
            )),
        };
    }
    if let Some(want) = case.get("error_prefix").and_then(Value::as_str) {
        return match result {
            Ok(_) => Some(format!("{name}: loaded, expected an error")),
            Err(e) if e.to_string().starts_with(want) => None,
            Err(e) => Some(format!(
                "{name}: error {:?}, expected {want}...",
                e.to_string()
            )),
        };
    }
    let loaded = match result {
        Ok(l) => l,
        Err(e) => return Some(format!("{name}: {e}")),
    };
    if let Some(expect) = case.get("expect").filter(|e| !e.is_null()) {
        let want = with_dir(expect, &dir.to_string_lossy());
        if loaded.model != want {
            return Some(format!(
                "{name}: model differs\n got: {}\nwant: {}",
                loaded.model, want
            ));
        }
    }
    // What `docker compose config` prints, byte for byte: compose-go's field order.
    if let Some(file) = case.get("expect_config").and_then(Value::as_str) {
        let want = std::fs::read_to_string(dir.join(file))
            .unwrap()
            .replace("$DIR", &dir.to_string_lossy());
        let got = render(&loaded.model, ConfigFormat::Yaml);
        if got != want {
            return Some(format!("{name}: config prints\n{got}\nwant:\n{want}"));
        }
    }
    if let Some(w) = case.get("warnings") {
        if strings(Some(w)) != loaded.warnings {
            return Some(format!(
                "{name}: warnings {:?}, expected {:?}",
                loaded.warnings, w
            ));
        }
    }
    // What `compose config` prints reads back as the same model, in both formats.
    let json: Value = serde_json::from_str(&render(&loaded.model, ConfigFormat::Json)).unwrap();
    if json != loaded.model {
        return Some(format!("{name}: the JSON rendering does not read back"));
    }
    None
}

#[test]
fn compose_go_loader_cases_load_as_compose_does() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "the case directories are missing");
    let failures: Vec<String> = dirs.iter().filter_map(|d| run_case(d)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn discovery_walks_up_and_names_the_project_after_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("My_App.v2");
    let deep = root.join("src/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        root.join("docker-compose.yml"),
        "services: {a: {image: a}}\n",
    )
    .unwrap();
    std::fs::write(root.join("compose.yaml"), "services: {b: {image: b}}\n").unwrap();
    std::fs::write(
        root.join("compose.override.yml"),
        "services: {b: {image: b2}}\n",
    )
    .unwrap();
    let opts = LoadOptions {
        working_dir: deep.clone(),
        ..Default::default()
    };
    let l = load(&opts).unwrap();
    // compose.yaml is preferred over docker-compose.yml; the override file joins it.
    assert_eq!(
        l.config_files,
        [root.join("compose.yaml"), root.join("compose.override.yml")]
    );
    assert_eq!(l.name, "my_appv2");
    assert_eq!(l.working_dir, root);
    assert_eq!(l.model["services"]["b"]["image"], "b2");
    assert!(l.model["services"].get("a").is_none());
}

#[test]
fn compose_file_and_project_name_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("one.yaml"), "services: {a: {image: a}}\n").unwrap();
    std::fs::write(tmp.path().join("two.yaml"), "services: {a: {image: a2}}\n").unwrap();
    let mut environment = BTreeMap::new();
    environment.insert("COMPOSE_FILE".to_string(), "one.yaml;two.yaml".to_string());
    environment.insert("COMPOSE_PATH_SEPARATOR".to_string(), ";".to_string());
    environment.insert("COMPOSE_PROJECT_NAME".to_string(), "fromenv".to_string());
    let l = load(&LoadOptions {
        working_dir: tmp.path().to_path_buf(),
        environment,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(l.name, "fromenv");
    assert_eq!(l.config_files.len(), 2);
    assert_eq!(l.model["services"]["a"]["image"], "a2");
    assert_eq!(l.model["networks"]["default"]["name"], "fromenv_default");
}

#[test]
fn no_compose_file_is_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let e = load(&LoadOptions {
        working_dir: tmp.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.kind(), LoadErrorKind::NotFound);
    assert_eq!(e.to_string(), "no configuration file provided: not found");
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn compose_file_of_separators_only_is_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let mut environment = BTreeMap::new();
    environment.insert("COMPOSE_FILE".to_string(), ":::".to_string());
    let e = load(&LoadOptions {
        working_dir: tmp.path().to_path_buf(),
        environment,
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.kind(), LoadErrorKind::NotFound);
}

#[test]
fn a_fifo_named_as_compose_file_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("compose.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = load(&LoadOptions {
        files: vec![fifo],
        project_name: Some("f".into()),
        working_dir: tmp.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[test]
fn yaml_rendering_reads_back_as_the_model() {
    let dir = cases_dir().join("merge");
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let l = load(&options(&dir, &case)).unwrap();
    let yaml = render(&l.model, ConfigFormat::Yaml);
    assert!(yaml.starts_with("name: merge\nservices:\n"), "{yaml}");
    // Loading the printed YAML again gives the same model.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("compose.yaml"), &yaml).unwrap();
    let again = load(&LoadOptions {
        working_dir: tmp.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(again.model, l.model, "{yaml}");
}

#[test]
fn nested_include_diamonds_stop_instead_of_reading_forever() {
    // Each level includes the next twice (not a cycle): 2^40 reads unbounded.
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let next = format!("f{}.yaml", i + 1);
        let body =
            format!("include:\n  - {next}\n  - path: {next}\nservices:\n  s{i}:\n    image: x\n");
        std::fs::write(tmp.path().join(format!("f{i}.yaml")), body).unwrap();
    }
    std::fs::write(
        tmp.path().join("f40.yaml"),
        "services:\n  end:\n    image: x\n",
    )
    .unwrap();
    let e = load(&LoadOptions {
        files: vec![tmp.path().join("f0.yaml")],
        project_name: Some("d".into()),
        working_dir: tmp.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("compose files read"), "{e}");
}

/// Loads `text` as a project's only file; the result does not matter, only that it comes.
fn load_text(dir: &Path, text: &str) -> Result<berth::compose::load::Loaded, String> {
    std::fs::write(dir.join("compose.yaml"), text).unwrap();
    load(&LoadOptions {
        files: vec![dir.join("compose.yaml")],
        project_name: Some("x".into()),
        working_dir: dir.to_path_buf(),
        ..Default::default()
    })
    .map_err(|e| e.to_string())
}

#[test]
fn ill_typed_fields_are_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = [
        "services: [1, 2]",
        "services: {a: [1]}",
        "services: {a: {image: x, ports: {x: 1}}}",
        "services: {a: {image: x, ports: [[1]]}}",
        "services: {a: {image: x, ports: [{published: 1}]}}",
        "services: {a: {image: x, volumes: [{type: bind}]}}",
        "services: {a: {image: x, volumes: \"/x\"}}",
        "services: {a: {image: x, extends: 5}}",
        "services: {a: {image: x, extends: {service: 5}}}",
        "services: {a: {image: x, extends: {service: nope}}}",
        "services: {a: {image: x, depends_on: 5}}",
        "services: {a: {image: x, environment: {A: {b: 1}}}}",
        "services: {a: {image: x, command: {a: 1}}}",
        "services: {a: {image: x, healthcheck: 5}}",
        "services: {a: {image: x, healthcheck: {interval: []}}}",
        "services: {a: {image: x, env_file: [5]}}",
        "services: {a: {image: x, ulimits: {nofile: {soft: x}}}}",
        "services: {a: {image: x, deploy: {replicas: many}}}",
        "services: {a: {image: [x]}}",
        "networks: 5",
        "volumes: [a]",
        "include: 5",
        "include: [5]",
        "include: [{path: []}]",
        "- a\n- b",
        "just a string",
    ];
    for text in bad {
        assert!(load_text(tmp.path(), text).is_err(), "{text:?} loaded");
    }
}

#[test]
fn mutated_fixtures_load_or_fail_without_panicking() {
    // A fixed-seed generator: the same mutations every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sources: Vec<String> = [
        "merge/compose.yaml",
        "interpolation/compose.yaml",
        "tutorial/compose.yaml",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(cases_dir().join(f)).unwrap())
    .collect();
    let alphabet = b"{}[]:-,'\"&*!|>$#\n ab1";
    let tmp = tempfile::tempdir().unwrap();
    let mut outcomes = (0, 0);
    for i in 0..400 {
        let mut bytes = sources[i % sources.len()].clone().into_bytes();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize];
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match load_text(tmp.path(), &text) {
            Ok(_) => outcomes.0 += 1,
            Err(e) => {
                assert!(!e.is_empty() && !e.contains('\n'), "{e:?}");
                outcomes.1 += 1;
            }
        }
    }
    // Both kinds happen: the mutations are neither all harmless nor all fatal.
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}
