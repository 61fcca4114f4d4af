//! Docker runs an inspect template over its typed structs, so `{{.Mounts}}` prints Go's
//! `%v` of `[]MountPoint` (`[{volume vol /var/lib/... /data local z true }]`), not a map.
//! This knows, for each node of the data, the Go type Docker has there (from
//! `ops::docker_types`) and prints it as Go would.
//!
//! One departure: Go prints a pointer nested in a value as its address (`0xc000123456`,
//! e.g. each network of `{{.NetworkSettings.Networks}}`), which changes from run to run
//! and says nothing. berth prints what it points to instead: `&{...}` for a struct, as
//! Go's `%v` writes a pointer to a struct it is handed directly, and the value itself for
//! a scalar (`HostConfig.OomKillDisable`).

use std::collections::HashMap;

use serde_json::Value;

use super::exec::{go_number, print_value};
use crate::ops::docker_types::{Kind, Struct};

/// Node address -> its Go type, for the nodes of one data tree (which outlives it).
pub type Types = HashMap<*const Value, &'static Kind>;

/// The type of every node of `value`, a value of `kind`.
pub fn index(value: &Value, kind: &'static Kind) -> Types {
    let mut types = Types::new();
    walk(value, kind, &mut types);
    types
}

fn walk(value: &Value, kind: &'static Kind, types: &mut Types) {
    types.insert(value as *const Value, kind);
    descend(value, kind, types);
}

fn descend(value: &Value, kind: &'static Kind, types: &mut Types) {
    match (kind, value) {
        (Kind::Struct(ty), Value::Object(map)) => {
            for field in ty.json_fields() {
                if let Some(child) = map.get(field.name) {
                    walk(child, &field.kind, types);
                }
            }
        }
        (Kind::Ptr(inner), value) => descend(value, inner, types),
        (Kind::Slice(item) | Kind::Array(_, item), Value::Array(items)) => {
            items.iter().for_each(|v| walk(v, item, types))
        }
        (Kind::Map(item), Value::Object(map)) => map.values().for_each(|v| walk(v, item, types)),
        _ => {}
    }
}

/// `{{.X}}` of a typed value: text/template takes one pointer off the top, then `%v`.
pub fn print(value: &Value, kind: &Kind, out: &mut String) {
    match (kind, value) {
        (Kind::Ptr(_), Value::Null) => out.push_str("<nil>"),
        (Kind::Ptr(inner), value) => go_value(value, inner, out),
        _ => go_value(value, kind, out),
    }
}

/// Go's `%v` of a value of `kind` nested in another.
fn go_value(value: &Value, kind: &Kind, out: &mut String) {
    match (kind, value) {
        (Kind::Str, Value::Null) => {}
        (Kind::Int | Kind::Float, Value::Null) => out.push('0'),
        (Kind::Bool, Value::Null) => out.push_str("false"),
        (Kind::Duration, Value::Number(n)) => out.push_str(&go_duration(n.as_i64().unwrap_or(0))),
        (Kind::Duration, Value::Null) => out.push_str("0s"),
        (Kind::Time, Value::String(s)) => out.push_str(&go_time(s)),
        (Kind::Time, Value::Null) => out.push_str(&go_time("")),
        (Kind::Struct(ty), value) => go_struct(value, ty, out),
        (Kind::Ptr(_) | Kind::Any, Value::Null) => out.push_str("<nil>"),
        (Kind::Ptr(inner), value) => {
            if matches!(inner, Kind::Struct(_)) {
                out.push('&');
            }
            go_value(value, inner, out);
        }
        (Kind::Slice(_) | Kind::Array(..), Value::Null) => out.push_str("[]"),
        (Kind::Slice(item) | Kind::Array(_, item), Value::Array(items)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_value(v, item, out);
            }
            out.push(']');
        }
        (Kind::Map(_), Value::Null) => out.push_str("map[]"),
        (Kind::Map(item), Value::Object(map)) => {
            // Go's fmt prints a map's keys sorted; serde_json's map is sorted already.
            out.push_str("map[");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_value(v, item, out);
            }
            out.push(']');
        }
        (Kind::Int | Kind::Float, Value::Number(n)) => out.push_str(&go_number(n)),
        (_, other) => print_value(other, out),
    }
}

/// `{f1 f2 ...}` in declaration order; an embedded struct is a `{...}` of its own.
fn go_struct(value: &Value, ty: &'static Struct, out: &mut String) {
    out.push('{');
    for (i, field) in ty.fields.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if field.embedded {
            go_value(value, &field.kind, out);
        } else {
            let v = value.get(field.name).unwrap_or(&Value::Null);
            go_value(v, &field.kind, out);
        }
    }
    out.push('}');
}

/// `time.Time`'s String: `2006-01-02 15:04:05.999999999 -0700 MST`.
fn go_time(text: &str) -> String {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|_| {
        chrono::DateTime::UNIX_EPOCH.fixed_offset() - chrono::TimeDelta::days(719_162)
    });
    let mut out = parsed.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = parsed.timestamp_subsec_nanos();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    let offset = parsed.format("%z").to_string();
    let zone = if parsed.offset().local_minus_utc() == 0 {
        "UTC".to_owned()
    } else {
        offset.clone()
    };
    format!("{out} {offset} {zone}")
}

/// `time.Duration`'s String: `1h2m3.5s`, `1.5ms`, `0s`.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let fraction = |value: u64, unit: u64| {
        let whole = value / unit;
        let rest = value % unit;
        if rest == 0 {
            whole.to_string()
        } else {
            let digits = unit.ilog10() as usize;
            let text = format!("{rest:0digits$}");
            format!("{whole}.{}", text.trim_end_matches('0'))
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", fraction(n, 1_000));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", fraction(n, 1_000_000));
    }
    let (hours, rest) = (n / 3_600_000_000_000, n % 3_600_000_000_000);
    let (minutes, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let seconds = fraction(rest, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{sign}{seconds}s"),
        (0, m) => format!("{sign}{m}m{seconds}s"),
        (h, m) => format!("{sign}{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::docker_types::{struct_kind, CONTAINER, NETWORK};
    use serde_json::json;

    fn at(value: &Value, kind: &Kind) -> String {
        let mut out = String::new();
        print(value, kind, &mut out);
        out
    }

    #[test]
    fn a_struct_prints_its_fields_in_order_with_blanks_for_empty_strings() {
        let mount = json!({"Type": "volume", "Name": "vol", "Source": "/s", "Destination": "/data",
            "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""});
        let mounts = &crate::ops::docker_types::CONTAINER.fields[1].kind;
        assert_eq!(
            at(&json!([mount]), mounts),
            "[{volume vol /s /data local z true }]"
        );
        assert_eq!(at(&Value::Null, mounts), "[]");
    }

    #[test]
    fn pointers_maps_and_embedded_structs_print_as_go() {
        let container = struct_kind(&CONTAINER);
        let mut value = json!({"State": {"Status": "created", "StartedAt": "x"},
            "NetworkSettings": {"Networks": {"none": {"NetworkID": "n"}}, "Ports": {"80/tcp": null}},
            "HostConfig": {"PidsLimit": null, "OomKillDisable": false}, "Config": {}});
        crate::ops::docker_types::fill(&mut value, &CONTAINER, true);
        let types = index(&value, container);
        let field = |path: &[&str]| {
            let node = path.iter().fold(&value, |v, k| &v[*k]);
            at(node, types[&(node as *const Value)])
        };
        assert_eq!(
            field(&["State"]),
            "{created false false false false false 0 0  x  <nil>}"
        );
        assert_eq!(field(&["HostConfig", "PidsLimit"]), "<nil>");
        assert_eq!(field(&["Config", "Volumes"]), "map[]");
        assert_eq!(field(&["ExecIDs"]), "[]");
        assert_eq!(field(&["NetworkSettings", "Ports"]), "map[80/tcp:[]]");
        let networks = field(&["NetworkSettings", "Networks"]);
        assert!(
            networks.starts_with("map[none:&{<nil> [] []  map[] 0 n "),
            "{networks}"
        );
        let settings = field(&["NetworkSettings"]);
        assert!(
            settings.starts_with("{{   map[80/tcp:[]] false  0 [] []} {   0  0  } map[none:&{"),
            "{settings}"
        );
        assert!(field(&["HostConfig"]).contains(" <nil> false <nil> [] 0 0 0 0} "));
    }

    #[test]
    fn times_and_durations_print_as_go() {
        let network = struct_kind(&NETWORK);
        let Kind::Struct(ty) = network else { panic!() };
        let created = &ty.fields[2].kind;
        assert_eq!(
            at(&json!("2026-12-06T15:04:50.396671242Z"), created),
            "2026-12-06 15:04:50.396671242 +0000 UTC"
        );
        assert_eq!(at(&Value::Null, created), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_duration(30_000_000_000), "30s");
        assert_eq!(go_duration(90_500_000_000), "1m30.5s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
    }
}
