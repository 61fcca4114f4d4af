//! berth's inspect beside Docker's own. tests/fixtures/docker-inspect/ holds what dockerd
//! 20.10 (API 1.41) answered, read through the docker 28 CLI, for the container made by
//! `create --name shape1 -v vol1:/data -v DIR:/bind:ro -l a=b -l c=d --restart
//! on-failure:3 -e FOO=bar --expose 8080 -p 8080:80 berth-test/busybox sleep 100`, for
//! that image, volume vol1 and the none/host networks, with the daemon's root written
//! `<dockerd>`. berth makes the same objects here and must answer in the same shape.

use serde_json::Value;

use berth::ops::docker_types::{
    self, struct_kind, Kind, Omit, Struct, BERTH_KEYS, CONTAINER, IMAGE, NETWORK, VOLUME,
};

use crate::common::Berth;

const IMAGE_NAME: &str = "berth-test/busybox";

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/docker-inspect")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn first(list: Value) -> Value {
    list.as_array().and_then(|l| l.first()).cloned().unwrap()
}

/// Where berth's object and Docker's differ in which fields they have, walking both
/// with Docker's types: a field Docker always writes that berth lacks, a key berth
/// writes that Docker's type lacks (not one of berth's own), and a key Docker wrote
/// that the type table lacks (the table is wrong then).
fn shape_differences(
    path: &str,
    docker: &Value,
    berth: &Value,
    kind: &'static Kind,
) -> Vec<String> {
    let mut out = Vec::new();
    match kind {
        Kind::Struct(ty) => struct_differences(path, docker, berth, ty, &mut out),
        Kind::Ptr(inner) if !docker.is_null() && !berth.is_null() => {
            out.extend(shape_differences(path, docker, berth, inner));
        }
        Kind::Slice(item) | Kind::Array(_, item) => {
            if let (Some(Value::Object(_)), Some(b)) = (
                docker.as_array().and_then(|l| l.first()),
                berth.as_array().and_then(|l| l.first()),
            ) {
                let d = &docker[0];
                out.extend(shape_differences(&format!("{path}[0]"), d, b, item));
            }
        }
        Kind::Map(item) => {
            if let (Value::Object(d), Value::Object(b)) = (docker, berth) {
                for (key, value) in d {
                    if let Some(other) = b.get(key) {
                        out.extend(shape_differences(
                            &format!("{path}[{key}]"),
                            value,
                            other,
                            item,
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

fn struct_differences(
    path: &str,
    docker: &Value,
    berth: &Value,
    ty: &'static Struct,
    out: &mut Vec<String>,
) {
    let (Value::Object(d), Value::Object(b)) = (docker, berth) else {
        if docker.is_object() != berth.is_object() {
            out.push(format!("{path}: Docker has {docker}, berth {berth}"));
        }
        return;
    };
    let fields = ty.json_fields();
    for field in &fields {
        let at = format!("{path}.{}", field.name);
        match (field.omit, d.get(field.name), b.get(field.name)) {
            (Omit::Never, None, _) => {
                out.push(format!("{at}: Docker lacks it (the table is wrong)"))
            }
            (Omit::Never, Some(_), None) => out.push(format!("{at}: berth lacks it")),
            (_, Some(dv), Some(bv)) => out.extend(shape_differences(&at, dv, bv, &field.kind)),
            _ => {}
        }
    }
    for key in d.keys() {
        if !fields.iter().any(|f| f.name == key) {
            out.push(format!(
                "{path}.{key}: Docker writes it, the table lacks it"
            ));
        }
    }
    for key in b.keys() {
        if !fields.iter().any(|f| f.name == key) && !BERTH_KEYS.contains(&key.as_str()) {
            out.push(format!(
                "{path}.{key}: berth writes it, Docker's type lacks it"
            ));
        }
    }
}

fn assert_same_shape(docker: &Value, berth: &Value, ty: &'static Struct) {
    let differences = shape_differences("", docker, berth, struct_kind(ty));
    assert!(
        differences.is_empty(),
        "{}:\n{}",
        ty.name,
        differences.join("\n")
    );
}

/// The keys of a JSON text's outermost object, in the order written.
fn top_keys(text: &str) -> Vec<String> {
    let (mut depth, mut keys, mut in_string, mut escaped) = (0, Vec::new(), false, false);
    let mut current = String::new();
    let mut last_string = String::new();
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    last_string = std::mem::take(&mut current);
                    continue;
                }
                _ => {}
            }
            current.push(c);
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ':' if depth == 1 => keys.push(std::mem::take(&mut last_string)),
            _ => {}
        }
    }
    keys
}

fn make_shape1(berth: &Berth, bind: &std::path::Path) {
    let bind = format!("{}:/bind:ro", bind.display());
    berth.ok(&[
        "create",
        "--name",
        "shape1",
        "-v",
        "vol1:/data",
        "-v",
        &bind,
        "-l",
        "a=b",
        "-l",
        "c=d",
        "--restart",
        "on-failure:3",
        "-e",
        "FOO=bar",
        "--expose",
        "8080",
        "-p",
        "8080:80",
        IMAGE_NAME,
        "sleep",
        "100",
    ]);
}

#[test]
fn inspect_has_dockers_whole_shape() {
    let berth = Berth::with_image();
    let bind = tempfile::tempdir().unwrap();
    make_shape1(&berth, bind.path());

    let docker = first(fixture("container-created.json"));
    assert_same_shape(&docker, &berth.inspect("shape1"), &CONTAINER);
    // Written in Docker's order, berth's own keys after.
    let raw = berth.ok(&["inspect", "--format", "{{json .}}", "shape1"]);
    let docker_keys: Vec<String> = docker.as_object().unwrap().keys().cloned().collect();
    let ordered: Vec<String> = CONTAINER
        .json_fields()
        .iter()
        .map(|f| f.name.to_owned())
        .filter(|k| docker_keys.contains(k))
        .collect();
    assert_eq!(top_keys(&raw), ordered);
    let plain = berth.ok(&["inspect", "shape1"]);
    let item = plain.trim().trim_start_matches('[').trim_end_matches(']');
    assert_eq!(top_keys(item), ordered);

    let started = berth.ok(&["run", "-d", "--name", "done", IMAGE_NAME, "true"]);
    assert!(!started.is_empty());
    berth.ok(&["wait", "done"]);
    let exited = first(fixture("container-exited.json"));
    assert_same_shape(&exited, &berth.inspect("done"), &CONTAINER);

    let image = berth.json(&["image", "inspect", IMAGE_NAME]);
    assert_same_shape(&first(fixture("image.json")), &image, &IMAGE);
    let volume = berth.json(&["volume", "inspect", "vol1"]);
    assert_same_shape(&first(fixture("volume.json")), &volume, &VOLUME);
    let network = berth.json(&["network", "inspect", "bridge"]);
    for docker_network in fixture("network.json").as_array().unwrap() {
        assert_same_shape(docker_network, &network, &NETWORK);
    }
}

#[test]
fn inspect_templates_print_dockers_structs_as_go_does() {
    let berth = Berth::with_image();
    let bind = tempfile::tempdir().unwrap();
    make_shape1(&berth, bind.path());
    let docker = fixture("container-formats.json");
    let dockerd_bind = "<dockerd>/bind";
    let ours = |template: &str| {
        berth
            .ok(&["inspect", "-f", template, "shape1"])
            .trim_end_matches('\n')
            .replace(&bind.path().display().to_string(), dockerd_bind)
            .replace(&berth.root().display().to_string(), "<dockerd>/root")
    };
    for template in [
        "{{.State}}",
        "{{.HostConfig.RestartPolicy}}",
        "{{.Config.Labels}}",
        "{{.HostConfig.PortBindings}}",
        "{{.Config.ExposedPorts}}",
        "{{.HostConfig.LogConfig}}",
        "{{.ExecIDs}}",
        "{{.State.Health}}",
        "{{.Config.Volumes}}",
        "{{json .HostConfig.RestartPolicy}}",
        "{{.Config.StopTimeout}}",
        "{{.Config.StopSignal}}",
        "{{.GraphDriver.Name}}",
    ] {
        assert_eq!(
            ours(template),
            docker[template].as_str().unwrap(),
            "{template}"
        );
    }
    // Mounts come in no fixed order.
    let mounts = |text: &str| {
        let mut parts: Vec<String> = text
            .split('|')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        parts.sort();
        parts
    };
    let template = "{{range .Mounts}}{{.}}|{{end}}";
    assert_eq!(
        mounts(&ours(template)),
        mounts(docker[template].as_str().unwrap())
    );
    // `{{json .HostConfig}}` is Docker's encoder over its type: its order, `omitempty`.
    let template = "{{json .HostConfig}}";
    let docker_keys = top_keys(docker[template].as_str().unwrap());
    let our_keys = top_keys(&ours(template));
    let common: Vec<&String> = docker_keys
        .iter()
        .filter(|k| our_keys.contains(k))
        .collect();
    assert_eq!(
        our_keys.iter().collect::<Vec<_>>(),
        common,
        "berth's keys, in Docker's order"
    );
    for field in docker_types::HOST_CONFIG.json_fields() {
        if field.omit == Omit::Never {
            assert!(
                our_keys.iter().any(|k| k == field.name),
                "{} missing",
                field.name
            );
        }
    }
}

#[test]
fn volume_image_and_network_templates_print_dockers_structs() {
    let berth = Berth::with_image();
    berth.ok(&["volume", "create", "vol1"]);
    let docker = fixture("other-formats.json");
    let volume = |template: &str| berth.ok(&["volume", "inspect", "-f", template, "vol1"]);
    let image = |template: &str| berth.ok(&["image", "inspect", "-f", template, IMAGE_NAME]);
    let network = |template: &str| berth.ok(&["network", "inspect", "-f", template, "bridge"]);
    let expected = |kind: &str, template: &str| docker[kind][template].as_str().unwrap().to_owned();
    // The same volume but for when and where it was made.
    let ours = volume("{{.}}")
        .replace(volume("{{.CreatedAt}}").trim(), "2026-12-06T15:05:01Z")
        .replace(
            volume("{{.Mountpoint}}").trim(),
            "<dockerd>/root/volumes/vol1/_data",
        );
    assert_eq!(ours.trim_end(), expected("volume", "{{.}}"));
    for template in ["{{.Labels}}", "{{.Options}}", "{{.Status}}"] {
        assert_eq!(
            volume(template).trim_end(),
            expected("volume", template),
            "{template}"
        );
    }
    for template in [
        "{{.RootFS}}",
        "{{.Metadata}}",
        "{{.Os}}/{{.Architecture}}",
        "{{.RepoTags}}",
    ] {
        assert_eq!(
            image(template).trim_end(),
            expected("image", template),
            "{template}"
        );
    }
    for template in [
        "{{.ConfigFrom}}",
        "{{.Containers}}",
        "{{.Peers}}",
        "{{.EnableIPv6}} {{.Internal}} {{.Attachable}}",
    ] {
        assert_eq!(
            network(template).trim_end(),
            expected("network", template),
            "{template}"
        );
    }
}

/// The values scripts read, beside Docker's: shape1 as the fixture, and what dockerd
/// 20.10 answered for `run -d`, `run`, `run -i`, `run -a stdout`, `run -a stdin`,
/// `create -i`, `-v` with options, `--mount` and `--pids-limit`.
#[test]
fn inspect_values_are_dockers() {
    let berth = Berth::with_image();
    let bind = tempfile::tempdir().unwrap();
    make_shape1(&berth, bind.path());
    let docker = first(fixture("container-created.json"));
    let ours = berth.inspect("shape1");
    let bind_text = bind.path().display().to_string();
    let binds: Vec<String> = ours["HostConfig"]["Binds"]
        .as_array()
        .expect("Binds is a list")
        .iter()
        .map(|b| b.as_str().unwrap().replace(&bind_text, "<dockerd>/bind"))
        .collect();
    assert_eq!(Value::from(binds), docker["HostConfig"]["Binds"]);
    for (section, key) in [
        ("HostConfig", "PidsLimit"),
        ("Config", "AttachStdin"),
        ("Config", "AttachStdout"),
        ("Config", "AttachStderr"),
        ("Config", "StdinOnce"),
        ("NetworkSettings", "Ports"),
    ] {
        assert_eq!(ours[section][key], docker[section][key], "{section}.{key}");
    }
    let mode = |inspected: &Value, destination: &str| {
        inspected["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == destination)
            .map(|m| m["Mode"].as_str().unwrap().to_owned())
            .unwrap()
    };
    for destination in ["/data", "/bind"] {
        let docker_mode = mode(&docker, destination);
        assert_eq!(mode(&ours, destination), docker_mode, "{destination}");
    }

    // Docker's Attach*/StdinOnce/OpenStdin per front door.
    let attach = |name: &str| {
        let c = &berth.inspect(name)["Config"];
        [
            c["AttachStdin"].as_bool().unwrap(),
            c["AttachStdout"].as_bool().unwrap(),
            c["AttachStderr"].as_bool().unwrap(),
            c["OpenStdin"].as_bool().unwrap(),
            c["StdinOnce"].as_bool().unwrap(),
        ]
    };
    let none = ["--network", "none"];
    berth.ok(&[
        &["run", "-d", "--name", "r1"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    berth.ok(&[&["run", "--name", "r2"][..], &none, &[IMAGE_NAME, "true"]].concat());
    berth.ok(&[
        &["run", "-i", "--name", "r3"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    berth.ok(&[
        &["run", "-a", "stdout", "--name", "r4"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    berth.ok(&[
        &["run", "-d", "-i", "--name", "r5"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    berth.ok(&[
        &["create", "-i", "--name", "c2"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    assert_eq!(attach("r1"), [false; 5], "run -d");
    assert_eq!(attach("r2"), [false, true, true, false, false], "run");
    assert_eq!(attach("r3"), [true; 5], "run -i");
    assert_eq!(
        attach("r4"),
        [false, true, false, false, false],
        "run -a stdout"
    );
    assert_eq!(
        attach("r5"),
        [false, false, false, true, false],
        "run -d -i"
    );
    assert_eq!(attach("c2"), [true; 5], "create -i");
    berth.ok(&[
        &["run", "-a", "stdin", "--name", "r6"][..],
        &none,
        &[IMAGE_NAME, "true"],
    ]
    .concat());
    assert_eq!(
        attach("r6"),
        [true, false, false, false, false],
        "run -a stdin"
    );

    // Modes and Binds as Docker writes them for each way of giving a mount.
    let src = bind_text.as_str();
    let (b3, b4) = (format!("{src}:/b3"), format!("{src}:/b4:rw,z"));
    let m2 = format!("type=bind,src={src},dst=/b2,readonly");
    berth.ok(&[
        "create",
        "--name",
        "c6",
        "--network",
        "none",
        "-v",
        "vol3:/d3:ro",
        "-v",
        "vol5:/d5:rw",
        "-v",
        "vol6:/d6:nocopy",
        "-v",
        "/anon",
        "--mount",
        "type=volume,src=v4,dst=/d4,readonly",
        "--mount",
        "type=volume,dst=/anon2",
        "--mount",
        &m2,
        "-v",
        &b3,
        "-v",
        &b4,
        "--pids-limit",
        "100",
        IMAGE_NAME,
        "true",
    ]);
    let c6 = berth.inspect("c6");
    for (destination, docker_mode) in [
        ("/d3", "ro"),
        ("/d5", "rw"),
        ("/d6", "nocopy"),
        ("/anon", ""),
        ("/d4", "z"),
        ("/anon2", "z"),
        ("/b2", ""),
        ("/b3", ""),
        ("/b4", "rw,z"),
    ] {
        assert_eq!(mode(&c6, destination), docker_mode, "{destination}");
    }
    let mut binds: Vec<&str> = c6["HostConfig"]["Binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    binds.sort();
    let mut want = vec!["vol3:/d3:ro", "vol5:/d5:rw", "vol6:/d6:nocopy", &b3, &b4];
    want.sort();
    assert_eq!(binds, want);
    assert_eq!(c6["HostConfig"]["PidsLimit"], 100);
    // No `-v` with a source: null, as Docker's.
    assert_eq!(berth.inspect("r1")["HostConfig"]["Binds"], Value::Null);

    // Ports appear at the first start (Docker's), then each exposed and published port.
    berth.ok(&["start", "shape1"]);
    let started = berth.inspect("shape1");
    let ports = started["NetworkSettings"]["Ports"].as_object().unwrap();
    assert!(
        ports.contains_key("8080/tcp") && ports.contains_key("80/tcp"),
        "{ports:?}"
    );
    berth.ok(&["rm", "-f", "shape1"]);
}
