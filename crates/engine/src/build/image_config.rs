//! What the metadata instructions do to an image's config, and the history line each
//! writes (BuildKit's `created_by` forms from dockerfile2llb: `ENV A=b`, `WORKDIR /app`,
//! `EXPOSE map[80/tcp:{}]`, `CMD ["sh" "-c" "x"]`...).

use serde_json::{json, Map, Value};

use super::step::ImageState;

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn go_quoted(args: &[String]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .collect();
    format!("[{}]", parts.join(" "))
}

/// Go's `%v` of a string slice: `[a b]`.
pub fn go_list(args: &[String]) -> String {
    format!("[{}]", args.join(" "))
}

/// A RUN's history line as BuildKit writes it: the stage's declared ARGs with their
/// values first (`|2 A=1 B= `, an ARG without a value shown empty), then the command's
/// words (`/bin/sh -c make` or the exec form's).
pub fn run_history(args: &[(&str, String)], argv: &[String]) -> String {
    let mut words = Vec::with_capacity(args.len() + argv.len() + 1);
    if !args.is_empty() {
        words.push(format!("|{}", args.len()));
        words.extend(args.iter().map(|(k, v)| format!("{k}={v}")));
    }
    words.extend(argv.iter().cloned());
    format!("RUN {} # buildkit", words.join(" "))
}

fn set_list(state: &mut ImageState, field: &str, values: &[String]) {
    state.config_mut().insert(field.to_owned(), json!(values));
}

/// `KEY=VALUE` pairs into `Env`, replacing a variable already there in place.
pub fn env(state: &mut ImageState, pairs: &[(String, String)]) -> String {
    let mut list = state.strings("Env");
    for (key, value) in pairs {
        let entry = format!("{key}={value}");
        match list
            .iter_mut()
            .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
        {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }
    set_list(state, "Env", &list);
    let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("ENV {}", shown.join(" "))
}

/// The value of a variable in the image's `Env`.
pub fn env_value(state: &ImageState, key: &str) -> Option<String> {
    state.strings("Env").iter().rev().find_map(|e| {
        e.split_once('=')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    })
}

/// The default `PATH` appended to `Env` when it has none, as BuildKit does at each
/// stage's start (Linux targets).
pub fn default_path(state: &mut ImageState) {
    if env_value(state, "PATH").is_none() {
        let mut list = state.strings("Env");
        list.push(crate::container::spec::DEFAULT_PATH.to_owned());
        set_list(state, "Env", &list);
    }
}

/// `WORKDIR`: a relative path is taken from the current one. Returns the new absolute
/// path and the history line.
pub fn workdir(state: &mut ImageState, path: &str) -> (String, String) {
    let current = state.string("WorkingDir");
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        let base = if current.is_empty() { "/" } else { &current };
        format!("{}/{}", base.trim_end_matches('/'), path)
    };
    let clean = clean_path(&joined);
    state
        .config_mut()
        .insert("WorkingDir".into(), json!(clean.clone()));
    (clean.clone(), format!("WORKDIR {clean}"))
}

/// A lexically cleaned absolute path (Go's `path.Clean`).
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

pub fn user(state: &mut ImageState, user: &str) -> String {
    state.config_mut().insert("User".into(), json!(user));
    format!("USER {user}")
}

/// `EXPOSE 80 443/udp`: ports without a protocol are tcp.
pub fn expose(state: &mut ImageState, ports: &[String]) -> String {
    let config = state.config_mut();
    let exposed = config.entry("ExposedPorts").or_insert_with(|| json!({}));
    if !exposed.is_object() {
        *exposed = json!({});
    }
    let mut added: Vec<String> = Vec::new();
    for port in ports {
        let port = if port.contains('/') {
            port.to_ascii_lowercase()
        } else {
            format!("{port}/tcp")
        };
        exposed[&port] = json!({});
        added.push(port);
    }
    added.sort();
    added.dedup();
    let shown: Vec<String> = added.iter().map(|p| format!("{p}:{{}}")).collect();
    format!("EXPOSE map[{}]", shown.join(" "))
}

pub fn label(state: &mut ImageState, pairs: &[(String, String)]) -> String {
    let config = state.config_mut();
    let labels = config.entry("Labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    for (key, value) in pairs {
        labels[key] = json!(value);
    }
    let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("LABEL {}", shown.join(" "))
}

pub fn volume(state: &mut ImageState, paths: &[String]) -> String {
    let config = state.config_mut();
    let volumes = config.entry("Volumes").or_insert_with(|| json!({}));
    if !volumes.is_object() {
        *volumes = json!({});
    }
    for path in paths {
        volumes[path] = json!({});
    }
    format!("VOLUME {}", go_list(paths))
}

/// `CMD`: `args` is the full command (the shell already in front for the shell form).
pub fn cmd(state: &mut ImageState, args: &[String]) -> String {
    set_list(state, "Cmd", args);
    format!("CMD {}", go_quoted(args))
}

/// `ENTRYPOINT`: a CMD the base image gave is dropped unless this stage set one.
pub fn entrypoint(state: &mut ImageState, args: &[String], cmd_set_in_stage: bool) -> String {
    set_list(state, "Entrypoint", args);
    if !cmd_set_in_stage {
        state.config_mut().insert("Cmd".into(), Value::Null);
    }
    format!("ENTRYPOINT {}", go_quoted(args))
}

pub fn stopsignal(state: &mut ImageState, signal: &str) -> String {
    state
        .config_mut()
        .insert("StopSignal".into(), json!(signal));
    format!("STOPSIGNAL {signal}")
}

pub fn shell(state: &mut ImageState, args: &[String]) -> String {
    set_list(state, "Shell", args);
    format!("SHELL {}", go_list(args))
}

pub fn onbuild(state: &mut ImageState, trigger: &str) -> String {
    let mut list = state.strings("OnBuild");
    list.push(trigger.to_owned());
    set_list(state, "OnBuild", &list);
    format!("ONBUILD {trigger}")
}

pub fn maintainer(state: &mut ImageState, name: &str) -> String {
    state.json["author"] = json!(name);
    format!("MAINTAINER {name}")
}

/// `HEALTHCHECK`: `check` is Docker's `Healthcheck` object (`Test`, `Interval`...).
pub fn healthcheck(state: &mut ImageState, check: Map<String, Value>) -> String {
    let test: Vec<String> = check
        .get("Test")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let nanos = |k: &str| check.get(k).and_then(Value::as_i64).unwrap_or(0);
    let shown = format!(
        "HEALTHCHECK &{{{} \"{}\" \"{}\" \"{}\" \"{}\" '\\x{:02x}'}}",
        go_quoted(&test),
        go_duration_text(nanos("Interval")),
        go_duration_text(nanos("Timeout")),
        go_duration_text(nanos("StartPeriod")),
        go_duration_text(nanos("StartInterval")),
        check.get("Retries").and_then(Value::as_i64).unwrap_or(0)
    );
    state
        .config_mut()
        .insert("Healthcheck".into(), Value::Object(check));
    shown
}

fn go_duration_text(nanos: i64) -> String {
    crate::container::go_duration(std::time::Duration::from_nanos(nanos.max(0) as u64))
}

/// Drops null fields from the config, as Docker's JSON does (`omitempty`).
pub fn tidy(state: &mut ImageState) {
    state.config_mut().retain(|_, v| !v.is_null());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_run_s_history_lists_the_args_in_scope_as_buildkit_does() {
        let shell = s(&["/bin/sh", "-c", "echo \"$V\" > /v"]);
        assert_eq!(
            run_history(&[], &shell),
            "RUN /bin/sh -c echo \"$V\" > /v # buildkit"
        );
        let args = [("V", "2".to_owned()), ("EMPTY", String::new())];
        assert_eq!(
            run_history(&args, &shell),
            "RUN |2 V=2 EMPTY= /bin/sh -c echo \"$V\" > /v # buildkit"
        );
        assert_eq!(
            run_history(&args[..1], &s(&["/bin/true", "a b"])),
            "RUN |1 V=2 /bin/true a b # buildkit"
        );
    }

    #[test]
    fn metadata_steps_change_the_config_and_say_buildkit_s_words() {
        let mut state = ImageState::scratch();
        assert_eq!(env(&mut state, &[("A".into(), "b".into())]), "ENV A=b");
        env(
            &mut state,
            &[("A".into(), "c".into()), ("B".into(), "d".into())],
        );
        assert_eq!(state.strings("Env"), s(&["A=c", "B=d"]));
        assert_eq!(env_value(&state, "A").as_deref(), Some("c"));
        assert_eq!(workdir(&mut state, "/app").1, "WORKDIR /app");
        assert_eq!(workdir(&mut state, "sub/../x").0, "/app/x");
        assert_eq!(
            expose(&mut state, &s(&["80", "53/UDP"])),
            "EXPOSE map[53/udp:{} 80/tcp:{}]"
        );
        assert_eq!(
            cmd(&mut state, &s(&["sh", "-c", "echo \"hi\""])),
            r#"CMD ["sh" "-c" "echo \"hi\""]"#
        );
        entrypoint(&mut state, &s(&["/e"]), false);
        assert!(state.config().unwrap().get("Cmd").unwrap().is_null());
        tidy(&mut state);
        assert!(state.config().unwrap().get("Cmd").is_none());
        assert_eq!(volume(&mut state, &s(&["/data"])), "VOLUME [/data]");
        assert_eq!(
            shell(&mut state, &s(&["/bin/bash", "-c"])),
            "SHELL [/bin/bash -c]"
        );
    }
}
