//! Printing the model as `docker compose config` does: block YAML with two-space indentation
//! (sequences indented under their key, as go-yaml v3 prints them), or indented JSON; the
//! top-level keys in Compose's order (name, services, networks, volumes, then the rest).

use serde_json::Value;

/// Output format of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigFormat {
    /// Block YAML, as `docker compose config` prints by default.
    Yaml,
    /// Indented JSON, as `docker compose config --format json` prints.
    Json,
}

const TOP_ORDER: &[&str] = &["name", "services", "networks", "volumes"];

fn top_keys(m: &serde_json::Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = Vec::new();
    for k in TOP_ORDER {
        if let Some((key, _)) = m.get_key_value(*k) {
            keys.push(key);
        }
    }
    keys.extend(m.keys().filter(|k| !TOP_ORDER.contains(&k.as_str())));
    keys
}

/// The model printed in `format`, ending with a newline.
pub fn render(model: &Value, format: ConfigFormat) -> String {
    let Value::Object(m) = model else {
        return match format {
            ConfigFormat::Json => format!("{model}\n"),
            ConfigFormat::Yaml => format!("{}\n", scalar(model)),
        };
    };
    let mut out = String::new();
    match format {
        ConfigFormat::Json => {
            out.push_str("{\n");
            let keys = top_keys(m);
            for (i, k) in keys.iter().enumerate() {
                let body = serde_json::to_string_pretty(&m[k.as_str()])
                    .unwrap_or_else(|_| "null".into())
                    .replace('\n', "\n  ");
                out.push_str(&format!("  {}: {body}", Value::String((*k).clone())));
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str("}\n");
        }
        ConfigFormat::Yaml => {
            for k in top_keys(m) {
                entry(&mut out, 0, k, &m[k.as_str()]);
            }
        }
    }
    out
}

fn entry(out: &mut String, indent: usize, key: &str, v: &Value) {
    let pad = " ".repeat(indent);
    let k = scalar(&Value::String(key.to_string()));
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str(&format!("{pad}{k}:\n"));
            for (ck, cv) in m {
                entry(out, indent + 2, ck, cv);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str(&format!("{pad}{k}:\n"));
            for item in a {
                seq_item(out, indent + 2, item);
            }
        }
        other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
    }
}

fn seq_item(out: &mut String, indent: usize, v: &Value) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            // The first key goes on the dash line, the rest under it.
            let mut first = true;
            for (k, cv) in m {
                let mut line = String::new();
                entry(&mut line, indent + 2, k, cv);
                if first {
                    line.replace_range(indent..indent + 2, "- ");
                    first = false;
                }
                out.push_str(&line);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str(&format!("{pad}-\n"));
            for item in a {
                seq_item(out, indent + 2, item);
            }
        }
        other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
    }
}

/// A scalar (or empty collection) on one line, quoted when a plain scalar would read back
/// as something else.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        Value::String(s) => {
            if needs_quotes(s) {
                // JSON string syntax is valid YAML double-quoted syntax.
                Value::String(s.clone()).to_string()
            } else {
                s.clone()
            }
        }
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    if matches!(
        s,
        "~" | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
    ) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    // `-x` is a plain word; `-`, `- x` and `---` are not.
    let dash_word = first == '-' && s.len() > 1 && !s.starts_with("- ") && !s.starts_with("---");
    if !dash_word && "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    // `8080:80` is a string in YAML 1.2 but a base-60 number to YAML 1.1 readers.
    if looks_numeric(s) || (first.is_ascii_digit() && s.contains(':')) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim_start_matches(['-', '+']);
    !t.is_empty()
        && (t.starts_with('.') || t.chars().next().is_some_and(|c| c.is_ascii_digit()))
        && t.chars().all(|c| {
            c.is_ascii_hexdigit() || matches!(c, '.' | '_' | 'x' | 'o' | 'e' | 'E' | '+' | '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_shape() {
        let m = json!({
            "services": {"web": {"command": ["echo", "8080", "a: b"], "ports": [{"target": 80, "mode": "ingress"}], "environment": {"E": null, "F": ""}}},
            "name": "p",
            "volumes": {}
        });
        let y = render(&m, ConfigFormat::Yaml);
        assert_eq!(
            y,
            "name: p\nservices:\n  web:\n    command:\n      - echo\n      - \"8080\"\n      - \"a: b\"\n    environment:\n      E: null\n      F: \"\"\n    ports:\n      - mode: ingress\n        target: 80\nvolumes: {}\n"
        );
        let j = render(&m, ConfigFormat::Json);
        let back: Value = serde_json::from_str(&j).expect("json");
        assert_eq!(back, m);
        assert!(
            j.starts_with("{\n  \"name\": \"p\",\n  \"services\""),
            "{j}"
        );
    }

    #[test]
    fn yaml_reads_back_as_the_model() {
        let m = json!({"name": "p", "services": {"s": {"labels": {"a": "-1", "b": "- x", "c": "yes", "d": "multi\nline", "e": "#x", "f": "-flag"}, "x": [[1, 2], []]}}});
        let y = render(&m, ConfigFormat::Yaml);
        let docs = super::super::yaml::parse(&y).expect("valid YAML");
        let back = super::super::to_plain(&docs[0]);
        assert_eq!(back, m, "{y}");
    }
}
