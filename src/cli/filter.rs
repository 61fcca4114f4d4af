//! `--filter key=value` as Docker takes it: the values of one key are alternatives, and
//! every key given must match.

use std::collections::BTreeMap;

use color_eyre::eyre::eyre;
use color_eyre::Result;

pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// Parses `key=value` entries, refusing a key not in `keys` with Docker's words.
    pub fn parse(entries: &[String], keys: &[&str]) -> Result<Filters> {
        let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in entries {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| eyre!("bad format of filter {entry:?} (expected name=value)"))?;
            let key = key.trim().to_lowercase();
            if !keys.contains(&key.as_str()) {
                return Err(eyre!("invalid filter '{key}'"));
            }
            filters.entry(key).or_default().push(value.to_owned());
        }
        Ok(Filters(filters))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The values given for `key`.
    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// True if, for every key given, `test(key, value)` holds for one of its values.
    pub fn matches(&self, mut test: impl FnMut(&str, &str) -> bool) -> bool {
        self.0
            .iter()
            .all(|(key, values)| values.iter().any(|v| test(key, v)))
    }

    /// Checks every value of `key` with `valid`, failing with Docker's
    /// `invalid filter 'key=value'`.
    pub fn check(&self, key: &str, valid: impl Fn(&str) -> bool) -> Result<()> {
        match self.values(key).iter().find(|v| !valid(v)) {
            Some(bad) => Err(eyre!("invalid filter '{key}={bad}'")),
            None => Ok(()),
        }
    }
}

/// `label=KEY` or `label=KEY=VALUE` against a set of labels.
pub fn label_matches<'a>(filter: &str, mut get: impl FnMut(&str) -> Option<&'a String>) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => get(k).is_some_and(|have| have == v),
        None => get(filter).is_some(),
    }
}

/// `true`/`false` (or 1/0) of a boolean filter such as `dangling`.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Go's `path.Match`: `*` and `?` match within one `/`-separated part, `[...]` a class
/// (`[^...]` negated, `a-z` ranges), `\` escapes. A malformed pattern matches nothing.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    // Iterative with one backtrack point for the last `*`, so no pattern is exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') if t[ti] != '/' => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('[') => {
                if let Some((matched, len)) = class(&p[pi..], t[ti]) {
                    if matched && t[ti] != '/' {
                        pi += len;
                        ti += 1;
                        continue;
                    }
                } else {
                    return false;
                }
            }
            Some('\\') if p.get(pi + 1) == Some(&t[ti]) => {
                pi += 2;
                ti += 1;
                continue;
            }
            Some(c) if *c != '?' && *c != '\\' && *c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `*` take one more character, never a `/`.
        match star {
            Some((sp, st)) if t[st] != '/' => {
                star = Some((sp, st + 1));
                pi = sp + 1;
                ti = st + 1;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A `[...]` class at the start of `p`: whether `c` is in it, and the class's length.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        let lo = if lo == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            lo
        };
        i += 1;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|h| *h != ']') {
            let hi = *p.get(i + 1)?;
            i += 2;
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_go_path_match() {
        assert!(glob_match("busybox", "busybox"));
        assert!(glob_match("busy*", "busybox"));
        assert!(glob_match("*box:lat?st", "busybox:latest"));
        assert!(glob_match("berth-test/*", "berth-test/busybox"));
        assert!(!glob_match("*", "berth-test/busybox"));
        assert!(glob_match("*/*:*", "berth-test/busybox:latest"));
        assert!(glob_match("[a-c]usy[^x]ox", "busybox"));
        assert!(!glob_match("[^b]usybox", "busybox"));
        assert!(!glob_match("busy", "busybox"));
        assert!(!glob_match("[", "a"));
        assert!(glob_match("a\\*", "a*"));
    }

    #[test]
    fn filters_or_within_a_key_and_across_keys() {
        let entries = ["name=a", "name=b", "label=x"].map(String::from);
        let filters = Filters::parse(&entries, &["name", "label"]).unwrap();
        assert!(filters.matches(|k, v| (k == "name" && v == "b") || k == "label"));
        assert!(!filters.matches(|k, v| k == "name" && v == "b"));
        let err = Filters::parse(&["colour=blue".into()], &["name"])
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "invalid filter 'colour'");
        assert!(Filters::parse(&["name".into()], &["name"]).is_err());
    }
}
