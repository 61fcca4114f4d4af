//! Merging canonical models: several `-f` files, `extends` bases under their services, and the
//! `!reset` / `!override` tags, with the compose specification's merge rules (merge.md):
//! mappings merge key by key, sequences append, scalars are replaced, and the fields below
//! follow rules of their own.

use serde_json::{Map, Value};

/// The rule of a path like `services.*.ports` (the service name and list indexes starred).
fn pattern(path: &[String]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let starred = (i == 1 && matches!(path[0].as_str(), "services" | "networks" | "volumes"))
            || (i == 3
                && path[0] == "services"
                && matches!(path[2].as_str(), "networks" | "ulimits"));
        out.push_str(if starred { "*" } else { seg });
    }
    out
}

/// The identity of a sequence entry: two entries with one identity are one entry, the later
/// replacing the earlier in its place.
fn identity(pat: &str, v: &Value) -> Option<String> {
    let field = |k: &str| v.get(k).map(|x| x.to_string()).unwrap_or_default();
    match pat {
        "services.*.ports" => Some(format!(
            "{}|{}|{}|{}",
            field("host_ip"),
            field("published"),
            field("target"),
            field("protocol")
        )),
        "services.*.volumes" | "services.*.devices" => Some(field("target")),
        "services.*.env_file" => Some(field("path")),
        "services.*.cap_add"
        | "services.*.cap_drop"
        | "services.*.dns"
        | "services.*.dns_search"
        | "services.*.dns_opt"
        | "services.*.tmpfs"
        | "services.*.profiles"
        | "services.*.expose"
        | "services.*.extra_hosts"
        | "services.*.security_opt"
        | "services.*.networks.*.aliases"
        | "services.*.networks.*.link_local_ips" => {
            let s = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            Some(match pat {
                // `KEY=VALUE` entries are one per key.
                "services.*.extra_hosts" | "services.*.security_opt" => s,
                _ => s.split('=').next().unwrap_or_default().to_string(),
            })
        }
        _ => None,
    }
}

fn unique(pat: &str, seq: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for v in seq {
        match identity(pat, &v) {
            Some(k) => match keys.iter().position(|x| *x == k) {
                Some(i) => out[i] = v,
                None => {
                    keys.push(k);
                    out.push(v);
                }
            },
            None => out.push(v),
        }
    }
    out
}

/// `over` merged onto `base` at `path`.
pub(crate) fn merge(base: Value, over: Value, path: &mut Vec<String>) -> Value {
    let pat = pattern(path);
    match pat.as_str() {
        "services.*.command" | "services.*.entrypoint" | "services.*.healthcheck.test" => {
            return over
        }
        p if p.starts_with("services.*.ulimits.") => return over,
        "services.*.logging" => {
            let d = |v: &Value| v.get("driver").cloned();
            if let (Some(a), Some(b)) = (d(&base), d(&over)) {
                if a != b {
                    return over;
                }
            }
        }
        _ => {}
    }
    match (base, over) {
        (b, Value::Null) => b,
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => {
                        path.push(k.clone());
                        let m = merge(old, v, path);
                        path.pop();
                        m
                    }
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (Value::Array(mut b), Value::Array(o)) => {
            b.extend(o);
            Value::Array(unique(&pat, b))
        }
        (_, o) => o,
    }
}

/// Merges a whole model (or one document) onto `acc`.
pub(crate) fn merge_model(acc: &mut Map<String, Value>, doc: Map<String, Value>) {
    let base = Value::Object(std::mem::take(acc));
    if let Value::Object(m) = merge(base, Value::Object(doc), &mut Vec::new()) {
        *acc = m;
    }
}

/// A service `over` merged onto its `extends` base.
pub(crate) fn merge_service(name: &str, base: Value, over: Value) -> Value {
    let mut path = vec!["services".to_string(), name.to_string()];
    merge(base, over, &mut path)
}

/// Applies the one-entry-per-identity rule within each service's sequences too (a file may
/// repeat a port or a capability on its own).
pub(crate) fn enforce_unique(services: &mut Map<String, Value>) {
    for svc in services.values_mut() {
        let Some(fields) = svc.as_object_mut() else {
            continue;
        };
        for (k, v) in fields.iter_mut() {
            if let Value::Array(items) = v {
                let pat = format!("services.*.{k}");
                *items = unique(&pat, std::mem::take(items));
            }
        }
        // compose-go keeps extra hosts in a map and prints them sorted.
        if let Some(Value::Array(hosts)) = fields.get_mut("extra_hosts") {
            hosts.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
        if let Some(Value::Object(nets)) = fields.get_mut("networks") {
            for n in nets.values_mut() {
                for k in ["aliases", "link_local_ips"] {
                    if let Some(Value::Array(items)) = n.get_mut(k) {
                        let pat = format!("services.*.networks.*.{k}");
                        *items = unique(&pat, std::mem::take(items));
                    }
                }
            }
        }
    }
}

/// Removes what a `!reset` or `!override` names from the model merged so far.
pub(crate) fn apply_resets(acc: &mut Map<String, Value>, resets: &[Vec<String>]) {
    for r in resets {
        remove_path(acc, r);
    }
}

pub(crate) fn remove_path(map: &mut Map<String, Value>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            map.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = map.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("object"),
        }
    }

    #[test]
    fn rules() {
        let mut acc = m(json!({"services": {"web": {
            "command": ["a", "b"],
            "environment": {"A": "1", "B": "2"},
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"}],
            "volumes": [{"type": "volume", "source": "x", "target": "/d"}],
            "cap_add": ["NET_ADMIN"],
            "networks": {"front": null}
        }}}));
        merge_model(
            &mut acc,
            m(json!({"services": {"web": {
                "command": ["c"],
                "environment": {"B": "3"},
                "ports": [
                    {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
                    {"target": 81, "protocol": "tcp", "mode": "ingress"}
                ],
                "volumes": [{"type": "volume", "source": "y", "target": "/d"}],
                "cap_add": ["NET_ADMIN", "SYS_TIME"],
                "networks": {"front": null, "back": {"aliases": ["b"]}}
            }}})),
        );
        assert_eq!(
            Value::Object(acc),
            json!({"services": {"web": {
                "command": ["c"],
                "environment": {"A": "1", "B": "3"},
                "ports": [
                    {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
                    {"target": 81, "protocol": "tcp", "mode": "ingress"}
                ],
                "volumes": [{"type": "volume", "source": "y", "target": "/d"}],
                "cap_add": ["NET_ADMIN", "SYS_TIME"],
                "networks": {"front": null, "back": {"aliases": ["b"]}}
            }}})
        );
    }

    #[test]
    fn one_file_repeating_an_entry_keeps_one() {
        let mut services = m(json!({"web": {
            "cap_add": ["NET_ADMIN", "NET_ADMIN"],
            "volumes": [{"target": "/d", "source": "a"}, {"target": "/d", "source": "b"}],
            "command": ["x", "x"]
        }}));
        enforce_unique(&mut services);
        assert_eq!(
            Value::Object(services),
            json!({"web": {
                "cap_add": ["NET_ADMIN"],
                "volumes": [{"target": "/d", "source": "b"}],
                "command": ["x", "x"]
            }})
        );
    }

    #[test]
    fn reset_removes() {
        let mut acc = m(json!({"services": {"web": {"ports": [1], "image": "x"}}}));
        apply_resets(
            &mut acc,
            &[vec!["services".into(), "web".into(), "ports".into()]],
        );
        assert_eq!(
            Value::Object(acc),
            json!({"services": {"web": {"image": "x"}}})
        );
    }

    #[test]
    fn logging_with_another_driver_replaces() {
        let base = json!({"driver": "json-file", "options": {"max-size": "1m"}});
        let over = json!({"driver": "syslog"});
        let mut p = vec!["services".into(), "web".into(), "logging".into()];
        assert_eq!(merge(base, over.clone(), &mut p), over);
    }
}
