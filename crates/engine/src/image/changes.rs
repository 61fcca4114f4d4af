//! `commit --change`: the Dockerfile instructions that only edit an image's config.

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Applies one instruction (`CMD ["sh"]`, `ENV A=1 B=2`, `EXPOSE 80/udp`, ...) to the
/// `config` section of an image config.
pub(crate) fn apply(config: &mut Value, change: &str) -> Result<()> {
    let bad = |reason: &str| Error::invalid("--change", change, reason);
    let change = change.trim();
    let (word, rest) = change
        .split_once(char::is_whitespace)
        .map_or((change, ""), |(w, r)| (w, r.trim()));
    if rest.is_empty() {
        return Err(bad("the instruction has no arguments"));
    }
    match word.to_ascii_uppercase().as_str() {
        "CMD" => config["Cmd"] = json!(command(rest)),
        "ENTRYPOINT" => config["Entrypoint"] = json!(command(rest)),
        "WORKDIR" => config["WorkingDir"] = json!(rest),
        "USER" => config["User"] = json!(rest),
        "STOPSIGNAL" => {
            crate::container::lifecycle::check_stop_signal(rest)?;
            config["StopSignal"] = json!(rest);
        }
        "ENV" => {
            for (key, value) in pairs(rest).map_err(|e| bad(&e))? {
                set_env(config, &key, &value);
            }
        }
        "LABEL" => {
            for (key, value) in pairs(rest).map_err(|e| bad(&e))? {
                object(config, "Labels").insert(key, json!(value));
            }
        }
        "EXPOSE" => {
            for port in rest.split_whitespace() {
                let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
                let valid = number.parse::<u16>().is_ok_and(|n| n > 0)
                    && matches!(proto, "tcp" | "udp" | "sctp");
                if !valid {
                    return Err(bad(&format!("invalid port {port}")));
                }
                object(config, "ExposedPorts").insert(format!("{number}/{proto}"), json!({}));
            }
        }
        "HEALTHCHECK" => config["Healthcheck"] = healthcheck(rest).map_err(|e| bad(&e))?,
        "VOLUME" => {
            let paths = json_array(rest)
                .unwrap_or_else(|| rest.split_whitespace().map(str::to_owned).collect());
            for path in paths {
                object(config, "Volumes").insert(path, json!({}));
            }
        }
        other => {
            return Err(bad(&format!(
                "{other} can't be changed by commit (CMD, ENTRYPOINT, ENV, EXPOSE, \
                 HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR can)"
            )))
        }
    }
    Ok(())
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
/// [--start-interval=D] [--retries=N] CMD command`, as a Dockerfile's: Docker's JSON
/// shape (durations in nanoseconds), `CMD-SHELL` for the shell form.
fn healthcheck(rest: &str) -> std::result::Result<Value, String> {
    let mut check = serde_json::Map::new();
    let mut rest = rest.trim_start();
    while let Some(flag) = rest.strip_prefix("--") {
        let (option, after) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        let (name, value) = option
            .split_once('=')
            .ok_or_else(|| format!("--{option} needs a value (--{option}=VALUE)"))?;
        let key = match name {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => "Retries",
            _ => return Err(format!("unknown flag: --{name}")),
        };
        let number = if key == "Retries" {
            let retries: i64 = value
                .parse()
                .map_err(|_| format!("--retries must be a number, not {value:?}"))?;
            if retries < 0 {
                return Err(format!("--retries cannot be negative ({retries})"));
            }
            retries
        } else {
            let nanos = crate::container::health::parse_go_duration(value)
                .ok_or_else(|| format!("time: invalid duration {value:?}"))?;
            if nanos != 0 && nanos < 1_000_000 {
                return Err(format!("Interval \"{name}\" cannot be less than 1ms"));
            }
            nanos
        };
        if number != 0 {
            check.insert(key.into(), json!(number));
        }
        rest = after.trim_start();
    }
    let (kind, command) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(k, c)| (k, c.trim()));
    match kind.to_ascii_uppercase().as_str() {
        "NONE" if command.is_empty() => return Ok(json!({"Test": ["NONE"]})),
        "NONE" => return Err("HEALTHCHECK NONE takes no arguments".into()),
        "CMD" if command.is_empty() => return Err("Missing command after HEALTHCHECK CMD".into()),
        "CMD" => {
            let test = match json_array(command) {
                Some(args) => [vec!["CMD".to_owned()], args].concat(),
                None => vec!["CMD-SHELL".to_owned(), command.to_owned()],
            };
            check.insert("Test".into(), json!(test));
        }
        other => return Err(format!("Unknown type {other:?} in HEALTHCHECK (try CMD)")),
    }
    Ok(Value::Object(check))
}

/// The exec form (a JSON array of strings) or the shell form, run by `/bin/sh -c`.
fn command(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.into()])
}

fn json_array(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// `KEY=VALUE ...` (values may be quoted) or the legacy `KEY VALUE WITH SPACES`.
fn pairs(rest: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let first = rest.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        let (key, value) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{rest} needs a value"))?;
        return Ok(vec![(key.to_owned(), value.trim().to_owned())]);
    }
    words(rest)?
        .into_iter()
        .map(|word| {
            word.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("{word} is not KEY=VALUE"))
        })
        .collect()
}

/// Splits on blanks outside quotes, dropping the quotes and honouring `\` escapes.
fn words(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', q) if q != Some('\'') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            ('"' | '\'', None) => {
                quote = Some(c);
                in_word = true;
            }
            (c, Some(q)) if c == q => quote = None,
            (c, None) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (c, _) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn set_env(config: &mut Value, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    if !config["Env"].is_array() {
        config["Env"] = json!([]);
    }
    if let Some(env) = config["Env"].as_array_mut() {
        let prefix = format!("{key}=");
        match env
            .iter_mut()
            .find(|e| e.as_str().is_some_and(|s| s.starts_with(&prefix)))
        {
            Some(existing) => *existing = json!(entry),
            None => env.push(json!(entry)),
        }
    }
}

fn object<'a>(config: &'a mut Value, key: &str) -> &'a mut serde_json::Map<String, Value> {
    if !config[key].is_object() {
        config[key] = json!({});
    }
    match config[key].as_object_mut() {
        Some(map) => map,
        None => unreachable!("just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> Value {
        let mut config = json!({"Env": ["PATH=/bin", "A=0"]});
        for c in changes {
            apply(&mut config, c).unwrap();
        }
        config
    }

    #[test]
    fn instructions_edit_the_config_as_a_dockerfile_would() {
        let c = applied(&[
            r#"CMD ["echo", "hi"]"#,
            "ENTRYPOINT top -b",
            r#"ENV A=1 B="two words""#,
            "ENV LEGACY some value",
            "WORKDIR /srv",
            "EXPOSE 80 53/udp",
            "LABEL com.example=yes",
            "USER nobody",
            "STOPSIGNAL SIGQUIT",
            r#"VOLUME ["/data"]"#,
            "volume /logs /cache",
        ]);
        assert_eq!(c["Cmd"], json!(["echo", "hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "top -b"]));
        assert_eq!(
            c["Env"],
            json!(["PATH=/bin", "A=1", "B=two words", "LEGACY=some value"])
        );
        assert_eq!(c["WorkingDir"], "/srv");
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["Labels"], json!({"com.example": "yes"}));
        assert_eq!(c["User"], "nobody");
        assert_eq!(c["StopSignal"], "SIGQUIT");
        assert_eq!(
            c["Volumes"],
            json!({"/data": {}, "/logs": {}, "/cache": {}})
        );
    }

    #[test]
    fn healthcheck_takes_dockerfile_forms() {
        let c = applied(&["HEALTHCHECK --interval=1s --retries=2 CMD test -f /ready"]);
        assert_eq!(
            c["Healthcheck"],
            json!({"Test": ["CMD-SHELL", "test -f /ready"], "Interval": 1_000_000_000, "Retries": 2})
        );
        let c = applied(&[r#"HEALTHCHECK --timeout=500ms CMD ["true"]"#]);
        assert_eq!(
            c["Healthcheck"],
            json!({"Test": ["CMD", "true"], "Timeout": 500_000_000})
        );
        assert_eq!(
            applied(&["HEALTHCHECK NONE"])["Healthcheck"],
            json!({"Test": ["NONE"]})
        );
        let mut config = json!({});
        for bad in [
            "HEALTHCHECK CMD",
            "HEALTHCHECK NONE now",
            "HEALTHCHECK --interval=soon CMD true",
            "HEALTHCHECK --retries=-1 CMD true",
            "HEALTHCHECK --every=1s CMD true",
            "HEALTHCHECK RUN true",
        ] {
            assert!(apply(&mut config, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_or_malformed_instructions_are_refused() {
        let mut config = json!({});
        for bad in [
            "RUN rm -rf /",
            "CMD",
            "EXPOSE 99999",
            "ENV A=\"open",
            "ENV =x",
            "STOPSIGNAL SIGNOPE",
        ] {
            assert!(apply(&mut config, bad).is_err(), "{bad}");
        }
    }
}
